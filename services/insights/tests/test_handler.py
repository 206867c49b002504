"""The handler and the views, on hand-built records (no broker): outputs encode with the shipped schemas,
review flags and outlier flags come out, the live view follows updates, alerts and summaries."""

import json
from dataclasses import dataclass

import pytest
from insights_builders import escalation, summary, update, utterance

from cxpulse_core.loop import Incoming
from cxpulse_core.records import Record
from cxpulse_core.schemas import schema_dir
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_insights.handler import InsightsHandler, OutputTopics
from cxpulse_insights.settings import InsightsSettings
from cxpulse_insights.state import InsightsState

SERDE = SingleObjectSerde()
SCHEMAS = {"contacts": "io.cxpulse.sentiment.", "utterances": "io.cxpulse.sentiment.UtteranceSentiment",
           "escalations": "io.cxpulse.routing.Escalation", "alerts": "io.cxpulse.routing.SupervisorAlert",
           "churn": "io.cxpulse.churn.ChurnRisk"}


@dataclass
class FakeMessage:
    _topic: str
    _value: bytes | None
    _key: bytes | None = None

    def topic(self) -> str:
        return self._topic

    def value(self) -> bytes | None:
        return self._value

    def key(self) -> bytes | None:
        return self._key


def rec(topic: str, value: dict | Record, schema: str | None = None) -> Incoming:
    if isinstance(value, Record):
        schema, value = value.SCHEMA, value.to_dict()
    schema = schema or SCHEMAS[topic]
    return Incoming(FakeMessage(topic, SERDE.encode(schema, value, topic)), None)


def contacts(value: Record) -> Incoming:
    return rec("contacts", value)


@pytest.fixture
def handler():
    state = InsightsState(InsightsSettings(outlier_min_sample=5))
    return InsightsHandler(state, SERDE, OutputTopics("quality", "agents", "churn"))


def test_ended_contact_is_scored_and_its_agent_updated(handler):
    talk = [utterance("c-1", 1, "agent", 0.4, "Thanks for calling"), utterance("c-1", 2, "customer", -0.8),
            utterance("c-1", 3, "customer", -0.7), utterance("c-1", 4, "agent", 0.2, "I'm sorry, I understand"),
            utterance("c-1", 5, "customer", 0.1)]
    batch = [rec("utterances", u) for u in talk] + [rec("escalations", escalation("c-1", -0.8)),
                                                      contacts(summary("c-1", start=-0.8, end=0.1, negative=2))]
    results = handler.handle(batch)
    assert all(r == [] for r in results[:-1])
    quality, agent = results[-1]
    assert (quality.topic, quality.key, agent.topic, agent.key) == ("quality", "c-1", "agents", "agent-1")
    q = quality.value
    assert q["stressful"] and q["de_escalated"] and q["escalated"] and not q["review"]
    assert {c["name"] for c in q["criteria"]} >= {"talk_share", "politeness_empathy"}
    assert agent.value["de_escalation_rate"] == 1.0 and agent.value["contacts"] == 1
    SERDE.encode(quality.schema, quality.value)  # valid against the shipped schemas
    SERDE.encode(agent.schema, agent.value)
    assert handler.state.quality()[0]["contact_id"] == "c-1"


def test_low_scores_and_queue_outliers_are_flagged_for_review(handler):
    for i in range(8):
        handler.handle([contacts(summary(f"good-{i}", start=0.2, end=0.3 + i * 0.01))])
    [[quality, _]] = handler.handle([contacts(summary("bad", start=0.0, end=-0.9, negative=5, anger=0.9))])
    assert quality.value["outlier"] == "low" and quality.value["robust_z"] < -3.5
    assert {"low_score", "low_outlier"} <= set(quality.value["review_reasons"])
    assert [q["contact_id"] for q in handler.state.quality(review_only=True)] == ["bad"]
    assert handler.state.agents()[0].flagged_for_review == 1


def test_live_view_follows_updates_alerts_and_the_end_of_a_contact(handler):
    alert = {"event_id": "a-1", "contact_id": "c-9", "account_id": "acct-1", "customer_id": None,
             "agent_id": "agent-1", "queue": "billing", "channel": "voice", "journey_stage": "billing",
             "rule": "anger_spike", "reason": "anger", "evidence": [], "churn_probability": None, "alert_id": "a-1",
             "severity": "critical", "team": "billing", "summary": "Angry customer", "event_time": 1,
             "origin_time": 1, "produced_time": 1}
    heard: list[str] = []
    handler.state.subscribe(heard.append)
    handler.handle([contacts(update("c-9", 2, -0.6)), rec("alerts", alert), rec("alerts", alert)])
    [row] = handler.state.active_contacts()
    assert row["customer_score"] == -0.6 and [a["rule"] for a in row["alerts"]] == ["anger_spike"]
    assert "contacts" in heard and "alerts" in heard
    handler.handle([contacts(summary("c-9"))])
    assert handler.state.active_contacts() == []


def test_churn_risk_at_or_above_the_threshold_and_tombstones(handler):
    def risk(account: str, p: float, t: int = 1) -> dict:
        return {"event_id": f"r-{account}-{t}", "account_id": account, "probability": p, "band": "high",
                "reasons": [{"feature": "contacts_7d", "value": 4.0, "contribution": 0.9, "text": "4 contacts"}],
                "contacts_seen": 3, "trigger": "contact", "last_contact_id": None, "model_version": "m",
                "as_of_time": t, "origin_time": t, "produced_time": t}
    handler.handle([rec("churn", risk("a1", 0.9)), rec("churn", risk("a2", 0.2)), rec("churn", risk("a3", 0.6)),
                    rec("churn", risk("a3", 0.7, t=0))])  # an older score does not overwrite
    assert [(a["account_id"], a["probability"]) for a in handler.state.at_risk()] == [("a1", 0.9), ("a3", 0.6)]
    assert handler.state.at_risk()[0]["reasons"] == ["4 contacts"]
    handler.handle([Incoming(FakeMessage("churn", None, b"a1"), None)])
    assert [a["account_id"] for a in handler.state.at_risk()] == ["a3"]


def test_bad_input_is_rejected(handler):
    [result] = handler.handle([Incoming(FakeMessage("contacts", b"not avro"), None)])
    assert result.reason == "decode_error"
    example = json.loads((schema_dir() / "examples" / "cx.notifications.log.jsonl").read_text().splitlines()[0])
    [result] = handler.handle([rec("alerts", example["value"], example["schema"])])
    assert result.reason == "unexpected_schema"


def test_turns_and_escalations_read_after_the_summary_rescore_the_contact(handler):
    [[first, _]] = handler.handle([contacts(summary("c-5", start=-0.8, end=-0.6, negative=3))])
    assert not first.value["escalated"]
    late = [rec("utterances", utterance("c-5", n, "customer", -0.8)) for n in range(1, 6)]
    results = handler.handle([*late, rec("escalations", escalation("c-5", -0.8))])
    assert results[:-1] == [[]] * 5  # rescored once per batch, on the batch's last record for the contact
    quality, agent = results[-1]
    assert quality.value["escalated"] and "long_negative_stretch" in quality.value["review_reasons"]
    assert quality.value["event_id"] != first.value["event_id"]  # a new event, not a duplicate to drop
    assert agent.value["contacts"] == 1 and agent.value["escalated_contacts"] == 1


def test_a_settled_contact_is_not_rescored_by_late_records_nor_scored_again_by_its_summary():
    clock = [0.0]
    state = InsightsState(InsightsSettings(ended_grace_s=60), clock=lambda: clock[0])
    handler = InsightsHandler(state, SERDE, OutputTopics("quality", "agents", "churn"))
    first = handler.handle([rec("utterances", utterance("c-1", 1, "customer", -0.8)), contacts(summary("c-1"))])
    assert [o.topic for o in first[-1]] == ["quality", "agents"]
    assert [o.topic for o in handler.handle([rec("utterances", utterance("c-1", 2, "customer", 0.5))])[0]] == [
        "quality", "agents"]  # within the grace: rescored
    clock[0] = 61.0
    handler.handle([])  # every batch settles what is due
    assert state.settled == 1
    late = handler.handle([rec("utterances", utterance("c-1", 3, "customer", 0.9)), contacts(summary("c-1"))])
    assert late == [[], []]
