"""Scripted conversations: ContactSentimentUpdate / UtteranceSentiment records built from a list of customer
scores, with the rolling fields computed the way the sentiment service does (closely enough for rules)."""

from __future__ import annotations

from typing import Any

T0 = 1_764_190_800_000
NEUTRAL = {"anger": 0.02, "frustration": 0.03, "confusion": 0.02, "disappointment": 0.02, "anxiety": 0.02,
           "gratitude": 0.05, "satisfaction": 0.05}


def _speaker(scores: list[float], emotions: list[dict[str, float]]) -> dict[str, Any]:
    rolling = 0.0
    for s in scores:
        rolling = 0.5 * rolling + 0.5 * s if rolling else s
    consecutive = 0
    for s in reversed(scores):
        if s >= -0.2:
            break
        consecutive += 1
    q = max(1, len(scores) // 4)
    trend = sum(scores[-q:]) / q - sum(scores[:q]) / q
    mean = sum(scores) / len(scores) if scores else 0.0
    return {"turns": len(scores), "rolling_score": rolling, "mean_score": mean, "quarter_means": [mean] * 4,
            "trend": trend, "overall_score": rolling, "overall_score5": 5 * rolling,
            "negative_turns": sum(s < -0.2 for s in scores), "consecutive_negative": consecutive,
            "peak_anger": max((e.get("anger", 0) for e in emotions), default=0.0),
            "peak_frustration": max((e.get("frustration", 0) for e in emotions), default=0.0)}


def label(score: float) -> str:
    return "negative" if score < -0.2 else "positive" if score > 0.2 else "neutral"


def conversation(scores: list[float], contact: str = "c-1", account: str | None = "acct-1",
                 emotions: list[dict[str, float]] | None = None, journey: str | None = "billing",
                 step_ms: int = 5_000, agent_turns: bool = False) -> list[dict[str, Any]]:
    """One ContactSentimentUpdate per customer turn (and, with agent_turns, a calm agent turn after each)."""
    emotions = emotions or [NEUTRAL] * len(scores)
    updates, turn, agent_scores = [], 0, []
    for i, (score, emo) in enumerate(zip(scores, emotions, strict=True)):
        for speaker in ("customer", "agent") if agent_turns else ("customer",):
            turn += 1
            if speaker == "agent":
                agent_scores.append(0.3)
            s = score if speaker == "customer" else 0.3
            updates.append({
                "event_id": f"cs-{contact}-{turn}", "contact_id": contact, "account_id": account,
                "customer_id": "cust-1", "agent_id": "agent-7", "queue": "billing", "channel": "voice",
                "journey_stage": journey, "turn": turn, "speaker": speaker, "utterance_id": f"u-{turn}",
                "last_label": label(s), "last_score": s, "last_emotions": emo if speaker == "customer" else NEUTRAL,
                "customer": _speaker(scores[:i + 1], emotions[:i + 1]), "agent": _speaker(agent_scores or [0.3], []),
                "model_version": "test", "event_time": T0 + turn * step_ms, "origin_time": T0 + turn * step_ms,
                "produced_time": T0 + turn * step_ms + 30})
    return updates


def utterance(text: str, emotions: dict[str, float], score: float, turn: int = 1, contact: str = "c-1",
              speaker: str = "customer") -> dict[str, Any]:
    return {"event_id": f"s-{contact}-{turn}", "contact_id": contact, "account_id": "acct-1", "customer_id": "cust-1",
            "agent_id": "agent-7", "queue": "billing", "channel": "voice", "journey_stage": "billing",
            "utterance_id": f"u-{turn}", "utterance_event_id": f"e-{turn}", "turn": turn, "speaker": speaker,
            "text": text, "label": label(score), "score": score, "score5": 5 * score, "emotions": emotions,
            "model_version": "test", "event_time": T0 + turn * 5000, "origin_time": T0 + turn * 5000,
            "produced_time": T0 + turn * 5000 + 30}


def churn(account: str = "acct-1", probability: float = 0.8, band: str = "high") -> dict[str, Any]:
    return {"probability": probability, "band": band, "as_of_time": T0}
