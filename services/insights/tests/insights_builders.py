"""Hand-built inputs for the insights unit tests."""

from __future__ import annotations

from typing import Any

from cxpulse_core.records import ChurnRisk, ContactSentimentUpdate, ContactSummary, Escalation, UtteranceSentiment
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
            anger: float = 0.1, account: str | None = "acct-1") -> ContactSummary:
    return ContactSummary.from_dict(summary_dict(contact, agent, queue, channel, stage, start, end, negative, anger,
                                                 account))


def summary_dict(contact: str = "c-1", agent: str | None = "agent-1", queue: str = "billing", channel: str = "voice",
                 stage: str | None = "billing", start: float = 0.1, end: float = 0.3, negative: int = 0,
                 anger: float = 0.1, account: str | None = "acct-1") -> dict:
    """A ContactSummary as the dict the serde writes."""
    return {"event_id": f"sum-{contact}", "contact_id": contact, "account_id": account, "customer_id": None,
            "agent_id": agent, "queue": queue, "channel": channel, "journey_stage": stage, "started_time": T0,
            "ended_time": T0 + 60_000, "status": "completed", "turns": 8,
            "customer": speaker(mean=(start + end) / 2, negative=negative, anger=anger),
            "agent": speaker(mean=0.4), "overall_score": end, "overall_score5": end * 5, "trend": end - start,
            "start_score": start, "end_score": end, "model_version": "test", "event_time": T0 + 60_000,
            "origin_time": T0 + 60_001, "produced_time": T0 + 60_010}


def utterance(contact: str, n: int, speaker_: str, score: float, text: str = "ok", stage: str | None = "billing",
              agent: str = "agent-1") -> UtteranceSentiment:
    return UtteranceSentiment.from_dict(utterance_dict(contact, n, speaker_, score, text, stage, agent))


def utterance_dict(contact: str, n: int, speaker_: str, score: float, text: str = "ok",
                   stage: str | None = "billing", agent: str = "agent-1") -> dict:
    label = "negative" if score < -0.3 else "positive" if score > 0.3 else "neutral"
    return {"event_id": f"s-{contact}-{n}", "contact_id": contact, "account_id": "acct-1", "customer_id": None,
            "agent_id": agent, "queue": "billing", "channel": "voice", "journey_stage": stage,
            "utterance_id": f"u-{n}", "utterance_event_id": f"e-{n}", "turn": n, "speaker": speaker_, "text": text,
            "label": label, "score": score, "score5": score * 5, "emotions": {"anger": max(0.0, -score)},
            "model_version": "test", "event_time": T0 + n * 10_000, "origin_time": T0 + n * 10_000,
            "produced_time": T0 + n * 10_000 + 5}


def escalation(contact: str, score: float | None = None, turn_: int = 3) -> Escalation:
    """An escalation with one evidence turn scored `score` (none without a score)."""
    evidence = [] if score is None else [{"turn": turn_, "utterance_id": f"u-{turn_}", "score": score, "emotions": {}}]
    return Escalation.from_dict({
        "event_id": f"x-{contact}", "contact_id": contact, "account_id": "acct-1", "customer_id": None,
        "agent_id": "agent-1", "queue": "billing", "channel": "voice", "journey_stage": "billing",
        "rule": "sustained_negative", "reason": "negative 3 turns", "evidence": evidence, "churn_probability": None,
        "target_queue": "retention", "priority": 1, "event_time": 1, "origin_time": 1, "produced_time": 1})


def churn_risk(account: str, probability: float = 0.9, band: str = "high", as_of: int = 1,
               reasons: tuple[str, ...] = (), last_contact: str | None = None, contacts_seen: int = 1) -> ChurnRisk:
    return ChurnRisk.from_dict({
        "event_id": f"r-{account}-{as_of}", "account_id": account, "probability": probability, "band": band,
        "reasons": [{"feature": "f", "value": 1.0, "contribution": 0.5, "text": text} for text in reasons],
        "contacts_seen": contacts_seen, "last_contact_id": last_contact, "model_version": "m", "as_of_time": as_of,
        "origin_time": as_of, "produced_time": as_of})


def update(contact: str, turn_: int, score: float, agent: str = "agent-1",
           stage: str = "billing") -> ContactSentimentUpdate:
    return ContactSentimentUpdate.from_dict(update_dict(contact, turn_, score, agent, stage))


def update_dict(contact: str, turn_: int, score: float, agent: str = "agent-1", stage: str = "billing") -> dict:
    return {"event_id": f"cs-{contact}-{turn_}", "contact_id": contact, "account_id": "acct-1", "customer_id": None,
            "agent_id": agent, "queue": "billing", "channel": "voice", "journey_stage": stage, "turn": turn_,
            "speaker": "customer", "utterance_id": f"u-{turn_}", "last_label": "negative" if score < -0.3 else
            "neutral", "last_score": score, "last_emotions": {"anger": 0.2}, "customer": speaker(mean=score),
            "agent": speaker(mean=0.3), "model_version": "test", "event_time": T0 + turn_ * 10_000,
            "origin_time": T0, "produced_time": T0 + 1}
