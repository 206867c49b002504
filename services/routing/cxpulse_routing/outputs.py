"""Output records (the Avro dicts of Escalation, SupervisorAlert, AgentGuidance) from decisions. Ids are derived
from the contact, the rule and the turn, so a replay re-emits the same ids and downstream consumers drop the
duplicates."""

from __future__ import annotations

from typing import Any

from cxpulse_core.ids import derived_id

from .engine import Firing
from .guidance import Guidance

_CONTEXT = ("contact_id", "account_id", "customer_id", "agent_id", "queue", "channel", "journey_stage")


def _evidence(firing: Firing) -> list[dict[str, Any]]:
    return [{"turn": t["turn"], "utterance_id": t["utterance_id"], "score": t["score"],
             "emotions": t["emotions"]} for t in firing.evidence]


def _common(kind: str, firing: Firing, update: dict[str, Any], churn: dict[str, Any] | None) -> dict[str, Any]:
    return {"event_id": derived_id("routing", kind, update["contact_id"], firing.rule.name, update["turn"]),
            **{k: update.get(k) for k in _CONTEXT}, "channel": update.get("channel") or "voice",
            "rule": firing.rule.name, "reason": firing.reason, "evidence": _evidence(firing),
            "churn_probability": churn.get("probability") if churn else None,
            "event_time": update["event_time"], "origin_time": update["origin_time"], "produced_time": 0}


def escalation(firing: Firing, update: dict[str, Any], churn: dict[str, Any] | None) -> dict[str, Any]:
    assert firing.rule.escalate is not None
    return {**_common("escalation", firing, update, churn), "target_queue": firing.rule.escalate.queue,
            "priority": firing.rule.escalate.priority}


def alert(firing: Firing, update: dict[str, Any], churn: dict[str, Any] | None,
          facts: dict[str, Any]) -> dict[str, Any]:
    assert firing.rule.alert is not None
    record = _common("alert", firing, update, churn)
    who = ", ".join(str(update[k]) for k in ("agent_id", "queue") if update.get(k))
    summary = f"{firing.rule.name.replace('_', ' ')} on {update['contact_id']}" + (f" ({who})" if who else "")
    return {**record, "alert_id": record["event_id"], "severity": firing.rule.alert.severity,
            "team": firing.team(facts), "summary": f"{summary}: {'; '.join(firing.details)}"}


def guidance(g: Guidance, utterance: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": derived_id("routing", "guidance", utterance["contact_id"], utterance["turn"]),
            "contact_id": utterance["contact_id"], "agent_id": utterance.get("agent_id"), "turn": utterance["turn"],
            "utterance_id": utterance["utterance_id"], "emotion": g.emotion, "tone": list(g.tone),
            "phrases": [{"phrase_id": p.phrase_id, "text": p.text, "intent": p.intent, "similarity": p.similarity}
                        for p in g.phrases],
            "event_time": utterance["event_time"], "origin_time": utterance["origin_time"], "produced_time": 0}
