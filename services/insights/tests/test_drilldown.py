"""The drill-down (transcript turn by turn with guidance, alerts, escalations, quality and churn), live timelines,
trends and their bounds; pure state, plus the endpoints on a real socket (loopback, no broker)."""

import json
import urllib.error
import urllib.request

import pytest
from insights_builders import T0, churn_risk, summary, update, utterance

from cxpulse_core.records import AgentGuidance, Escalation, SupervisorAlert
from cxpulse_insights.detail import ContactLog
from cxpulse_insights.settings import InsightsSettings
from cxpulse_insights.state import InsightsState
from cxpulse_insights.trends import MINUTE, Trends


def guidance(contact: str, turn: int) -> AgentGuidance:
    return AgentGuidance.from_dict({
            "event_id": f"g-{contact}-{turn}", "contact_id": contact, "agent_id": "agent-1", "turn": turn,
            "utterance_id": f"u-{turn}", "emotion": "anger", "tone": ["acknowledge", "apologize"],
            "phrases": [{"phrase_id": "p1", "text": "I'm sorry about that.", "intent": "apology", "similarity": 0.8}],
            "event_time": T0, "origin_time": T0, "produced_time": T0})


def alert_dict(contact: str, turn: int | None) -> dict:
    return {"event_id": f"a-{contact}", "alert_id": f"a-{contact}", "contact_id": contact, "account_id": "acct-1",
            "agent_id": "agent-1", "queue": "billing", "channel": "voice", "journey_stage": "billing",
            "rule": "anger_spike", "reason": "anger 0.8", "severity": "critical", "summary": "Angry customer",
            "evidence": [] if turn is None else [{"turn": turn, "utterance_id": f"u-{turn}", "score": -0.8,
                                                  "emotions": {}}], "event_time": T0 + 30_000,
            "origin_time": T0, "produced_time": T0}


def alert(contact: str, turn: int | None) -> SupervisorAlert:
    return SupervisorAlert.from_dict(alert_dict(contact, turn))


def escalation(contact: str, turn: int) -> Escalation:
    return Escalation.from_dict(alert_dict(contact, turn) | {
        "event_id": f"x-{contact}", "rule": "sustained_negative", "target_queue": "retention", "priority": 1,
        "reason": "negative for 2 turns"})


def conversation(state: InsightsState, contact: str = "c-1") -> None:
    for n, (who, score) in enumerate([("agent", 0.5), ("customer", -0.5), ("agent", 0.2), ("customer", -0.8)], 1):
        state.on_utterance(utterance(contact, n, who, score, text=f"turn {n} text"))
        if who == "customer":
            state.on_update(update(contact, n, score))
    state.on_guidance(guidance(contact, 2))
    state.on_alert(alert(contact, 4))
    state.on_escalation(escalation(contact, 4))


def test_drilldown_of_a_live_then_ended_contact():
    state = InsightsState(InsightsSettings())
    conversation(state)
    state.on_churn("acct-1", churn_risk("acct-1", 0.7, "high", T0, ("asked to cancel",), "c-1", 2))
    live = state.contact("c-1")
    assert live["status"] == "live" and [t["turn"] for t in live["turns"]] == [1, 2, 3, 4]
    second, fourth = live["turns"][1], live["turns"][3]
    assert second["text"] == "turn 2 text" and second["label"] == "negative" and second["score"] == -0.5
    assert second["emotions"] == [{"name": "anger", "score": 0.5}] and second["model_version"] == "test"
    assert second["guidance"][0]["tone"] == ["acknowledge", "apologize"]
    assert second["guidance"][0]["phrases"] == ["I'm sorry about that."]
    assert fourth["alerts"][0]["rule"] == "anger_spike" and fourth["escalations"][0]["target_queue"] == "retention"
    assert live["churn"]["reasons"] == ["asked to cancel"] and live["quality"] is None
    state.on_summary(summary("c-1", negative=2, start=-0.5, end=-0.8))
    ended = state.contact("c-1")
    assert ended["status"] == "ended" and ended["quality"]["score"] > 0
    assert {c["name"] for c in ended["quality"]["criteria"]} >= {"trajectory", "de_escalation"}
    assert all(c["detail"] for c in ended["quality"]["criteria"])
    assert state.contact("nobody") is None


def test_live_rows_carry_a_timeline_with_markers():
    state = InsightsState(InsightsSettings())
    conversation(state)
    [row] = state.active_contacts()
    assert row["series"]["customer"] == [[2, -0.5], [4, -0.8]] and row["series"]["agent"] == [[1, 0.5], [3, 0.2]]
    assert {(m["kind"], m["turn"]) for m in row["series"]["markers"]} == {("alert", 4), ("escalation", 4)}


def test_details_are_bounded():
    log = ContactLog(max_contacts=3, max_turns=5, max_events=2)
    for c in range(10):
        for n in range(1, 9):
            log.utterance(utterance(f"c-{c}", n, "customer", -0.1))
        for turn in range(4):
            log.alert(SupervisorAlert.from_dict(alert_dict(f"c-{c}", turn) | {"alert_id": f"a-{c}-{turn}"}))
    assert len(log) == 3 and log.get("c-0") is None
    kept = log.get("c-9")
    assert sorted(kept.turns) == [1, 2, 3, 4, 5] and len(kept.alerts) == 2
    assert len(log.series("c-9", 3)["customer"]) == 3


def test_a_redelivered_turn_counts_once_in_trends():
    state = InsightsState(InsightsSettings())
    for _ in range(2):
        state.on_utterance(utterance("c-1", 2, "customer", -0.6))
    points = state.trend("hour")["queue"]["billing"]
    assert points == [[T0 + 20_000 - (T0 + 20_000) % MINUTE, -0.6, 1.0, 1]]


def test_trends_per_queue_and_channel_with_filters_and_windows():
    trends = Trends()
    trends.add(T0, "billing", "voice", "a1", -0.6, True)
    trends.add(T0 + 1000, "billing", "chat", "a2", 0.4, False)
    trends.add(T0 + 5 * MINUTE, "tech", "voice", "a1", 0.2, False)
    hour = trends.series("hour")
    assert [p[1:] for p in hour["queue"]["billing"]] == [[-0.1, 0.5, 2]]
    assert set(hour["channel"]) == {"voice", "chat"} and len(hour["channel"]["voice"]) == 2
    assert set(trends.series("hour", agent="a2")["queue"]) == {"billing"}
    assert trends.series("hour", channel="chat", queue="tech")["queue"] == {}
    trends.add(T0 + 2 * 60 * MINUTE, "tech", "voice", "a1", 0.0, False)  # two hours later: the hour moved on
    assert set(trends.series("hour")["queue"]) == {"tech"} and len(trends.series("hour")["queue"]["tech"]) == 1
    assert set(trends.series("day")["queue"]) == {"billing", "tech"}
    trends.add(T0 + 26 * 60 * MINUTE, "tech", "voice", "a1", 0.0, False)
    assert set(trends.series("day")["queue"]) == {"tech"}
    assert len(trends._buckets["hour"]) <= 60 and len(trends._buckets["day"]) <= 96


def test_trend_keys_per_bucket_are_bounded():
    trends = Trends(max_keys=3)
    for a in range(10):
        trends.add(T0, "q", "voice", f"agent-{a}", 0.0, False)
    [bucket] = trends._buckets["hour"].values()
    assert len(bucket) == 4 and bucket[("other", "other", "other")][0] == 7


def test_churn_bands_follow_the_filter():
    state = InsightsState(InsightsSettings())
    state.on_utterance(utterance("c-1", 1, "customer", -0.6, agent="agent-1"))
    for account, band in (("acct-1", "high"), ("acct-2", "low")):
        state.on_churn(account, churn_risk(account, 0.6, band, T0))
    assert state.trend("day")["churn_bands"] == {"low": 1, "medium": 0, "high": 1, "critical": 0}
    assert state.trend("day", agent="agent-1")["churn_bands"] == {"low": 0, "medium": 0, "high": 1, "critical": 0}
    with pytest.raises(ValueError):
        state.trend("week")


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, object]:
    if data is not None and headers is None:
        headers = {"Content-Type": "application/json"}
    try:
        request = urllib.request.Request(url, data=data, headers=headers or {})
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_endpoints(served):
    state, base = served
    conversation(state)
    state.on_update(update("c-2", 1, 0.1, agent="agent-2"))
    status, body = fetch(base + "/api/contacts/c-1")
    assert status == 200 and len(body["turns"]) == 4 and body["turns"][3]["alerts"]
    assert fetch(base + "/api/contacts/nobody")[0] == 404
    assert [r["contact_id"] for r in fetch(base + "/api/contacts/active?agent=agent-2")[1]] == ["c-2"]
    assert len(fetch(base + "/api/contacts/active?queue=billing")[1]) == 2
    assert fetch(base + "/api/contacts/active?channel=chat")[1] == []
    status, body = fetch(base + "/api/trends?window=day&queue=billing")
    assert status == 200 and body["window"] == "day" and "billing" in body["queue"]
    assert fetch(base + "/api/trends?window=year")[0] == 400
    # Without Kafka the dashboard still works; corrections say why they cannot be stored.
    correction = json.dumps({"contact_id": "c-1", "turn": 2, "label": "neutral"}).encode()
    assert fetch(base + "/api/corrections", correction)[0] == 503
    # A form post from another site (text/plain) or a JSON post from another origin is refused first.
    assert fetch(base + "/api/corrections", correction, {"Content-Type": "text/plain"})[0] == 415
    assert fetch(base + "/api/corrections", correction, {"Content-Type": "application/json",
                                                         "Origin": "http://evil.example"})[0] == 403


def test_a_settled_contact_is_frozen_shows_the_same_and_thaws_for_a_late_record():
    clock = [0.0]
    state = InsightsState(InsightsSettings(ended_grace_s=60), clock=lambda: clock[0])
    conversation(state)
    state.on_summary(summary("c-1", negative=2, start=-0.5, end=-0.8))
    ended, turn = state.contact("c-1"), state.turn("c-1", 2)
    clock[0] = 61.0
    assert state.settle() == 1
    assert state.details.frozen("c-1")
    assert state.contact("c-1") == ended and state.turn("c-1", 2) == turn
    state.on_guidance(guidance("c-1", 4))  # read late: the contact is thawed, the guidance added
    assert not state.details.frozen("c-1")
    assert [g["turn"] for g in state.contact("c-1")["guidance"]] == [2, 4]


def test_a_frozen_contact_is_one_block():
    import gc
    import tracemalloc

    log = ContactLog(max_contacts=100, max_turns=50)
    tracemalloc.start()
    try:
        for c in range(100):
            for n in range(1, 11):
                log.utterance(utterance(f"c-{c}", n, "customer", -0.1, text=f"turn {n} of contact {c}"))
            log.guidance(guidance(f"c-{c}", 3))
        gc.collect()
        thawed = len(tracemalloc.take_snapshot().traces)
        for c in range(100):
            log.freeze(f"c-{c}")
        gc.collect()
        frozen = len(tracemalloc.take_snapshot().traces)
    finally:
        tracemalloc.stop()
    assert frozen < thawed / 20, (thawed, frozen)
    assert [t["text"] for t in log.get("c-7").turns.values()][:2] == ["turn 1 of contact 7", "turn 2 of contact 7"]
