"""Hand-built inputs for the insights unit tests."""

from __future__ import annotations

from typing import Any

from cxpulse_insights.quality import ContactFacts, Turn

T0 = 1_764_190_800_000


def facts(**overrides: Any) -> ContactFacts:
    """A calm contact: customer neutral-to-positive, no escalation, no turns."""
    base = dict(contact_id="c-1", start_score=0.1, end_score=0.3, trend=0.2, customer_negative_turns=0,
                customer_peak_anger=0.1, customer_peak_frustration=0.1, customer_consecutive_negative=0,
                customer_quarter_means=(0.1, 0.2, 0.2, 0.3), agent_mean_score=0.4, ended_time=T0 + 60_000)
    return ContactFacts(**(base | overrides))


def turn(n: int, speaker: str, score: float, text: str = "", stage: str | None = None, at_s: int | None = None,
         label: str | None = None) -> Turn:
    label = label or ("negative" if score < -0.3 else "positive" if score > 0.3 else "neutral")
    return Turn(n, speaker, text, label, score, T0 + 1000 * (at_s if at_s is not None else n * 10), stage)


def speaker(turns: int = 4, mean: float = 0.0, negative: int = 0, anger: float = 0.1, run: int = 0) -> dict:
    return {"turns": turns, "rolling_score": mean, "mean_score": mean, "quarter_means": [mean, None, mean, mean],
            "trend": 0.0, "overall_score": mean, "overall_score5": mean * 5, "negative_turns": negative,
            "consecutive_negative": run, "peak_anger": anger, "peak_frustration": 0.1}


def summary(contact: str = "c-1", agent: str | None = "agent-1", queue: str = "billing", channel: str = "voice",
            stage: str | None = "billing", start: float = 0.1, end: float = 0.3, negative: int = 0,
            anger: float = 0.1, account: str | None = "acct-1") -> dict:
    return {"event_id": f"sum-{contact}", "contact_id": contact, "account_id": account, "customer_id": None,
            "agent_id": agent, "queue": queue, "channel": channel, "journey_stage": stage, "started_time": T0,
            "ended_time": T0 + 60_000, "status": "completed", "turns": 8,
            "customer": speaker(mean=(start + end) / 2, negative=negative, anger=anger),
            "agent": speaker(mean=0.4), "overall_score": end, "overall_score5": end * 5, "trend": end - start,
            "start_score": start, "end_score": end, "model_version": "test", "event_time": T0 + 60_000,
            "origin_time": T0 + 60_001, "produced_time": T0 + 60_010}


def utterance(contact: str, n: int, speaker_: str, score: float, text: str = "ok", stage: str | None = "billing",
              agent: str = "agent-1") -> dict:
    label = "negative" if score < -0.3 else "positive" if score > 0.3 else "neutral"
    return {"event_id": f"s-{contact}-{n}", "contact_id": contact, "account_id": "acct-1", "customer_id": None,
            "agent_id": agent, "queue": "billing", "channel": "voice", "journey_stage": stage,
            "utterance_id": f"u-{n}", "utterance_event_id": f"e-{n}", "turn": n, "speaker": speaker_, "text": text,
            "label": label, "score": score, "score5": score * 5, "emotions": {"anger": max(0.0, -score)},
            "model_version": "test", "event_time": T0 + n * 10_000, "origin_time": T0 + n * 10_000,
            "produced_time": T0 + n * 10_000 + 5}


def update(contact: str, turn_: int, score: float, agent: str = "agent-1", stage: str = "billing") -> dict:
    return {"event_id": f"cs-{contact}-{turn_}", "contact_id": contact, "account_id": "acct-1", "customer_id": None,
            "agent_id": agent, "queue": "billing", "channel": "voice", "journey_stage": stage, "turn": turn_,
            "speaker": "customer", "utterance_id": f"u-{turn_}", "last_label": "negative" if score < -0.3 else
            "neutral", "last_score": score, "last_emotions": {"anger": 0.2}, "customer": speaker(mean=score),
            "agent": speaker(mean=0.3), "model_version": "test", "event_time": T0 + turn_ * 10_000,
            "origin_time": T0, "produced_time": T0 + 1}
