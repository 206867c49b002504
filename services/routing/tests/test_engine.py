"""Scripted conversations through the pure rule engine with the shipped rules file."""

from __future__ import annotations

from pathlib import Path

import pytest
from conversations import NEUTRAL, churn, conversation

from cxpulse_core.records import AgentGuidance, Escalation, SupervisorAlert
from cxpulse_routing import outputs
from cxpulse_routing.engine import ContactState, evaluate, facts
from cxpulse_routing.rules import load_rules, parse_rules

SHIPPED = Path(__file__).resolve().parents[1] / "cxpulse_routing" / "rules.yaml"
ANGRY = {**NEUTRAL, "anger": 0.9, "frustration": 0.7}


@pytest.fixture(scope="module")
def rules():
    return load_rules(SHIPPED)


def run(rules, updates, risk=None):
    """Every update through one contact's state; returns (escalations, alerts) as (turn, rule, target) lists."""
    state, escalations, alerts = ContactState(), [], []
    for update in updates:
        state = ContactState.from_dict(state.to_dict())  # round-trips through the table's JSON every turn
        decided = evaluate(rules, state, update, risk)
        if decided.escalation:
            escalations.append((update["turn"], decided.escalation.rule.name, decided.escalation.rule.escalate.queue))
        if decided.alert:
            alerts.append((update["turn"], decided.alert.rule.name, decided.alert.rule.alert.severity))
    return escalations, alerts


def escalating(agent_turns: bool = False):
    scores = [0.2, 0.0, -0.3, -0.5, -0.6, -0.7, -0.8, -0.85, -0.9]
    anger = [0.05, 0.1, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 0.9]
    return conversation(scores, emotions=[{**NEUTRAL, "anger": a} for a in anger], agent_turns=agent_turns)


def test_a_steadily_escalating_call_escalates_exactly_once_at_the_third_turn_below_threshold(rules):
    escalations, alerts = run(rules, escalating())
    assert escalations == [(6, "sustained_negative", "tier2_support")]  # -0.5, -0.6, -0.7 at turns 4, 5, 6
    assert alerts == [(6, "sustained_negative", "warning")]  # the anger spike at turn 8 is within the alert cooldown


def test_agent_turns_do_not_trigger_rules_and_evidence_names_the_customer_turns(rules):
    updates = escalating(agent_turns=True)
    escalations, _ = run(rules, updates)
    assert escalations == [(11, "sustained_negative", "tier2_support")]  # the 6th customer turn is turn 11
    state = ContactState()
    firing = next(d.escalation for u in updates if (d := evaluate(rules, state, u, None)).escalation)
    record = outputs.escalation(firing, updates[10], None)
    assert [(e["turn"], e["score"]) for e in record["evidence"]] == [(7, -0.5), (9, -0.6), (11, -0.7)]
    assert record["priority"] == 3 and "for 3 turns" in record["reason"]


def test_a_calm_call_never_escalates(rules):
    assert run(rules, conversation([0.3, 0.4, 0.1, 0.5, 0.2, 0.6, 0.0, 0.3])) == ([], [])


def test_a_call_that_recovers_before_the_threshold_never_escalates(rules):
    assert run(rules, conversation([-0.5, -0.6, 0.2, -0.5, -0.6, 0.3, 0.4, 0.5])) == ([], [])


def test_a_high_churn_risk_account_goes_to_the_retention_queue(rules):
    updates = conversation([-0.2, -0.5, -0.6, -0.7])
    escalations, alerts = run(rules, updates, churn(probability=0.8))
    assert escalations == [(2, "retention_risk", "retention")]
    assert alerts == [(2, "retention_risk", "warning")]
    without_risk, _ = run(rules, updates, churn(probability=0.2))
    assert without_risk == [(4, "sustained_negative", "tier2_support")]


def test_high_value_accounts_by_list_and_by_pattern(rules):
    assert run(rules, conversation([-0.5, -0.5], account="acct-1042"))[0] == [(2, "high_value_unhappy", "vip_care")]
    assert run(rules, conversation([-0.5, -0.5], account="vip-9"))[0] == [(1, "premium_account_unhappy", "vip_care")]
    assert run(rules, conversation([-0.5, -0.5], account="acct-9"))[0] == []


def test_the_cooldowns_hold_against_a_storm():
    rules = parse_rules({"contact_cooldown": {"escalation_s": 0, "alert_s": 0}, "rules": [
        {"name": "anger", "cooldown_s": 60, "when": {"emotion_above": {"emotions": ["anger"], "probability": 0.8}},
         "alert": {"severity": "critical", "team": "{queue}"}}]})
    updates = conversation([-0.9] * 30, emotions=[ANGRY] * 30, step_ms=5_000)  # 150 s of shouting
    assert [turn for turn, _, _ in run(rules, updates)[1]] == [1, 13, 25]  # every 60 s of event time


def test_the_contact_cooldown_limits_a_storm_across_rules(rules):
    updates = conversation([-0.9] * 60, emotions=[ANGRY] * 60, account="acct-1042", step_ms=5_000)  # 5 minutes
    escalations, alerts = run(rules, updates, churn(probability=0.9))
    assert escalations == [(1, "retention_risk", "retention")]  # priority 1 wins over anger_spike's 2
    assert alerts[0] == (1, "anger_spike", "critical")  # the most severe alert of the turn
    assert [turn for turn, _, _ in alerts] == [1, 25, 49]  # one alert per 120 s of event time


def test_a_replayed_or_duplicate_update_decides_nothing(rules):
    updates = escalating()
    state = ContactState()
    decided = [evaluate(rules, state, u, None) for u in updates[:6]]
    assert decided[-1].escalation is not None
    assert evaluate(rules, state, updates[5], None).escalation is None  # the same turn again


def test_alert_record_is_deterministic_and_names_the_team(rules):
    updates = escalating()
    state = ContactState()
    firing = next(d.alert for u in updates if (d := evaluate(rules, state, u, None)).alert)
    first = outputs.alert(firing, updates[5], None, facts(updates[5], None))
    again = outputs.alert(firing, updates[5], None, facts(updates[5], None))
    assert first["alert_id"] == again["alert_id"] == first["event_id"]
    assert first["team"] == "billing" and first["severity"] == "warning" and "c-1" in first["summary"]


def test_output_records_match_the_avro_contracts(rules):
    from conversations import utterance

    from cxpulse_core.serde import SingleObjectSerde
    from cxpulse_routing.encoders import VERSION, HashingEncoder
    from cxpulse_routing.guidance import Guide, load_library

    serde, updates, state = SingleObjectSerde(), escalating(), ContactState()
    decided = [(u, d) for u in updates if (d := evaluate(rules, state, u, churn())).escalation or d.alert]
    update, decision = decided[0]
    for schema, record in ((Escalation.SCHEMA, outputs.escalation(decision.escalation, update, churn())),
                           (SupervisorAlert.SCHEMA,
                            outputs.alert(decision.alert, update, churn(), facts(update, churn())))):
        assert serde.decode(serde.encode(schema, record)).value == record
    guide = Guide.with_encoder(*load_library(SHIPPED.with_name("phrases.yaml")), HashingEncoder(), VERSION)
    turn = utterance("Why was I charged twice?", {**NEUTRAL, "anger": 0.9}, -0.8)
    record = outputs.guidance(guide.advise("anger", HashingEncoder().embed([turn["text"]])[0]), turn)
    assert serde.decode(serde.encode(AgentGuidance.SCHEMA, record)).value == record
