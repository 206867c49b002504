"""Upstream records for the insights integration and browser tests: what sentiment, routing and churn-scoring
would publish for a few contacts, produced to a test's private topic namespace."""

from __future__ import annotations

from typing import Any

from cxpulse_core import topics
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.settings import KafkaSettings, RuntimeSettings
from cxpulse_core.testing.kafka import produce

T0 = 1_764_190_800_000
SENT = "io.cxpulse.sentiment."
CALM = [("agent", 0.5, "Thank you for calling, how can I help?"), ("customer", 0.1, "I'd like to move my plan."),
        ("agent", 0.4, "Happy to help, that's done."), ("customer", 0.6, "Great, thanks!")]
ANGRY = [("agent", 0.3, "Thanks for calling."), ("customer", -0.4, "You charged me twice again!"),
         ("customer", -0.7, "This is ridiculous."), ("agent", 0.1, "I'm so sorry, I understand how frustrating it is."),
         ("customer", -0.8, "Just fix it."), ("customer", -0.9, "I'm cancelling.")]


def _context(contact: str, agent: str, stage: str, channel: str) -> dict[str, Any]:
    return {"contact_id": contact, "account_id": f"acct-{contact}", "customer_id": None, "agent_id": agent,
            "queue": "billing", "channel": channel, "journey_stage": stage}


def _times(t: int) -> dict[str, int]:
    return {"event_time": t, "origin_time": t, "produced_time": t}


def _speaker(scores: list[float]) -> dict[str, Any]:
    mean = sum(scores) / len(scores) if scores else 0.0
    negative = [s < -0.3 for s in scores]
    run = 0
    for flag in reversed(negative):
        if not flag:
            break
        run += 1
    return {"turns": len(scores), "rolling_score": scores[-1] if scores else 0.0, "mean_score": mean,
            "quarter_means": [mean] * 4, "trend": (scores[-1] - scores[0]) if scores else 0.0,
            "overall_score": mean, "overall_score5": mean * 5, "negative_turns": sum(negative),
            "consecutive_negative": run, "peak_anger": max([0.1] + [-s for s in scores]), "peak_frustration": 0.1}


def contact_records(contact: str, agent: str, lines: list[tuple[str, float, str]], stage: str = "billing",
                    channel: str = "voice", end: bool = True) -> list[tuple[str, str, dict[str, Any]]]:
    """(topic, schema, value) of every utterance, a rolling update per customer turn and, if `end`, the summary."""
    ctx, out, customer = _context(contact, agent, stage, channel), [], []
    for n, (speaker, score, text) in enumerate(lines, 1):
        t = T0 + n * 10_000
        label = "negative" if score < -0.3 else "positive" if score > 0.3 else "neutral"
        out.append((topics.UTTERANCE_SENTIMENT, SENT + "UtteranceSentiment", ctx | _times(t) | {
            "event_id": f"s-{contact}-{n}", "utterance_id": f"u-{n}", "utterance_event_id": f"e-{n}", "turn": n,
            "speaker": speaker, "text": text, "label": label, "score": score, "score5": score * 5,
            "emotions": {"anger": max(0.0, -score)}, "model_version": "test"}))
        if speaker == "customer":
            customer.append(score)
            out.append((topics.CONTACT_SENTIMENT, SENT + "ContactSentimentUpdate", ctx | _times(t) | {
                "event_id": f"cs-{contact}-{n}", "turn": n, "speaker": speaker, "utterance_id": f"u-{n}",
                "last_label": label, "last_score": score, "last_emotions": {"anger": max(0.0, -score)},
                "customer": _speaker(customer), "agent": _speaker([0.3]), "model_version": "test"}))
    if end:
        t = T0 + (len(lines) + 1) * 10_000
        out.append((topics.CONTACT_SENTIMENT, SENT + "ContactSummary", ctx | _times(t) | {
            "event_id": f"sum-{contact}", "started_time": T0, "ended_time": t, "status": "completed",
            "turns": len(lines), "customer": _speaker(customer), "agent": _speaker([0.3]),
            "overall_score": customer[-1], "overall_score5": customer[-1] * 5, "trend": customer[-1] - customer[0],
            "start_score": customer[0], "end_score": customer[-1], "model_version": "test"}))
    return out


def escalation(contact: str, agent: str, score: float = -0.8) -> tuple[str, str, dict[str, Any]]:
    return (topics.ESCALATIONS, "io.cxpulse.routing.Escalation", _context(contact, agent, "billing", "voice")
            | _times(T0 + 30_000) | {"event_id": f"x-{contact}", "rule": "sustained_negative",
                                     "reason": "customer negative for 2 consecutive turns",
                                     "evidence": [{"turn": 3, "utterance_id": "u-3", "score": score, "emotions": {}}],
                                     "churn_probability": None, "target_queue": "retention", "priority": 1})


def alert(contact: str, agent: str) -> tuple[str, str, dict[str, Any]]:
    return (topics.ALERTS, "io.cxpulse.routing.SupervisorAlert", _context(contact, agent, "billing", "voice")
            | _times(T0 + 30_000) | {"event_id": f"a-{contact}", "rule": "anger_spike", "reason": "anger 0.8",
                                     "evidence": [], "churn_probability": None, "alert_id": f"a-{contact}",
                                     "severity": "critical", "team": "billing",
                                     "summary": f"Angry customer on {contact}"})


def guidance(contact: str, agent: str, turn: int) -> tuple[str, str, dict[str, Any]]:
    return (topics.GUIDANCE, "io.cxpulse.routing.AgentGuidance", {
        "event_id": f"g-{contact}-{turn}", "contact_id": contact, "agent_id": agent, "turn": turn,
        "utterance_id": f"u-{turn}", "emotion": "anger", "tone": ["acknowledge", "apologize"],
        "phrases": [{"phrase_id": "apology-1", "text": "I'm sorry, let me fix that right now.", "intent": "apology",
                     "similarity": 0.82}]} | _times(T0 + turn * 10_000 + 500))


def churn(account: str, probability: float, reason: str) -> tuple[str, str, dict[str, Any]]:
    return (topics.CHURN_RISK, "io.cxpulse.churn.ChurnRisk", {
        "event_id": f"r-{account}", "account_id": account, "probability": probability,
        "band": "critical" if probability >= 0.8 else "high", "contacts_seen": 3, "trigger": "contact",
        "reasons": [{"feature": "contacts_7d", "value": 4.0, "contribution": 0.9, "text": reason}],
        "last_contact_id": None, "model_version": "test", "as_of_time": T0, "origin_time": T0, "produced_time": T0})


def send(kafka: KafkaSettings, runtime: RuntimeSettings, records: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Produces in order, topic by topic (keys: contact or account id, as upstream does)."""
    serde = SingleObjectSerde()
    for topic in dict.fromkeys(t for t, _, _ in records):
        name = runtime.topic(topic)
        produce(kafka, name, [(v.get("contact_id") or v["account_id"], serde.encode(s, v, name))
                              for t, s, v in records if t == topic])
