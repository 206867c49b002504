"""The live views' TTL and bounds, as pure logic with a controlled clock."""

from insights_builders import churn_risk, escalation
from insights_builders import update as update_of

from cxpulse_core.records import ContactSentimentUpdate
from cxpulse_insights.settings import InsightsSettings
from cxpulse_insights.state import InsightsState


def update(contact: str) -> ContactSentimentUpdate:
    return update_of(contact, 1, -0.2)


def test_contacts_that_never_end_leave_the_live_views_after_the_ttl():
    clock = [0.0]
    state = InsightsState(InsightsSettings(contact_ttl_s=60), clock=lambda: clock[0])
    state.on_update(update("old"))
    clock[0] = 30.0
    state.on_update(update("new"))
    state.on_escalation(escalation("new"))
    clock[0] = 61.0
    assert state.expire() == 1 and [c["contact_id"] for c in state.active_contacts()] == ["new"]
    clock[0] = 91.0
    assert state.expire() == 1 and state.sizes() | {"ended": 0, "accounts": 0} == {
        "active": 0, "turns": 0, "escalated": 0, "ended": 0, "accounts": 0}


def test_churn_risks_are_bounded_least_recently_updated_first():
    state = InsightsState(InsightsSettings(max_accounts=2))
    for account in ("a", "b", "c"):
        state.on_churn(account, churn_risk(account, 0.9, "high", 1))
    assert [r["account_id"] for r in state.at_risk()] == ["b", "c"]


def test_a_mass_expiry_shrinks_the_maps_and_the_views_carry_on():
    import sys

    clock = [0.0]
    state = InsightsState(InsightsSettings(contact_ttl_s=60, max_open_contacts=10_000), clock=lambda: clock[0])
    for i in range(5_000):
        state.on_update(update(f"gone-{i}"))
    full = sys.getsizeof(state._active)
    clock[0] = 30.0
    state.on_update(update("kept"))
    clock[0] = 61.0
    assert state.expire() == 5_000
    state.compact()
    assert sys.getsizeof(state._active) * 20 < full and [c["contact_id"] for c in state.active_contacts()] == ["kept"]
    state.on_update(update("later"))
    clock[0] = 91.0
    assert state.expire() == 1 and [c["contact_id"] for c in state.active_contacts()] == ["later"]


def test_the_drill_down_of_a_contact_that_never_ended_goes_with_its_ttl_an_ended_one_stays():
    from insights_builders import summary, utterance

    clock = [0.0]
    state = InsightsState(InsightsSettings(contact_ttl_s=60), clock=lambda: clock[0])
    for contact in ("abandoned", "done"):
        state.on_update(update(contact))
        state.on_utterance(utterance(contact, 1, "customer", -0.4, text="still waiting"))
    state.on_summary(summary("done"))
    clock[0] = 61.0
    assert state.expire() == 1
    state.compact()
    assert state.contact("abandoned") is None
    assert state.contact("done") is not None and state.contact("done")["turns"][0]["text"] == "still waiting"


def test_a_batch_announces_each_changed_view_once_at_its_end():
    state = InsightsState(InsightsSettings())
    heard: list[str] = []
    state.subscribe(heard.append)
    with state.batched():
        for i in range(100):
            state.on_update(update(f"c-{i}"))
        state.on_escalation(escalation("c-1"))
        assert heard == []
    assert heard == ["contacts", "escalations"]
    state.on_update(update("c-200"))  # outside a batch: at once
    assert heard == ["contacts", "escalations", "contacts"]


def test_guidance_read_after_the_ttl_expires_with_it_too():
    # Routing lags behind sentiment: its guidance for a contact can be read after insights expired the contact.
    # The drill-down entry it re-creates must expire as well, or it stays until the LRU bound pushes it out.
    from test_drilldown import guidance

    clock = [0.0]
    state = InsightsState(InsightsSettings(contact_ttl_s=60), clock=lambda: clock[0])
    state.on_update(update("late"))
    clock[0] = 61.0
    assert state.expire() == 1 and state.contact("late") is None
    state.on_guidance(guidance("late", 1))
    assert state.contact("late") is not None  # shown while it is fresh
    clock[0] = 122.0
    assert state.expire() == 1 and state.contact("late") is None and len(state.details) == 0


def test_accounts_share_one_entry_per_queue_agent_and_channel_and_keep_theirs_in_place():
    from insights_builders import utterance_dict

    from cxpulse_core.records import UtteranceSentiment

    state = InsightsState(InsightsSettings())
    state.on_utterance(UtteranceSentiment.from_dict(utterance_dict("c-1", 1, "customer", -0.2)))
    kept = state._accounts["acct-1"]
    state.on_utterance(UtteranceSentiment.from_dict(utterance_dict("c-2", 1, "customer", -0.2)))  # same where
    state.on_utterance(UtteranceSentiment.from_dict(utterance_dict("c-3", 1, "customer", -0.2) | {"account_id": "b"}))
    assert state._accounts["acct-1"] is kept and state._accounts["b"] is kept
    state.on_utterance(UtteranceSentiment.from_dict(utterance_dict("c-4", 1, "customer", -0.2, agent="agent-2")))
    assert state._accounts["acct-1"] == ("billing", "agent-2", "voice") and list(state._accounts) == ["b", "acct-1"]


def _ended_contact(state: InsightsState, cid: str, turns: int = 10) -> None:
    from insights_builders import summary, utterance

    for turn in range(1, turns + 1):
        speaker = "customer" if turn % 2 else "agent"
        state.on_utterance(utterance(cid, turn, speaker, -0.3, text=f"turn {turn} of {cid}"))
    state.on_summary(summary(cid))


def test_an_ended_contact_is_rescored_within_its_grace_and_settled_after_it():
    from insights_builders import summary, utterance

    clock = [0.0]
    state = InsightsState(InsightsSettings(ended_grace_s=600, contact_ttl_s=60), clock=lambda: clock[0])
    _ended_contact(state, "c-1")
    clock[0] = 300.0
    assert state.settle() == 0
    assert state.on_utterance(utterance("c-1", 11, "customer", -0.9, text="one more thing"))  # late: rescore it
    assert state.rescore("c-1")[0].contact_id == "c-1"
    clock[0] = 601.0
    assert state.settle() == 1 and state.settled == 1
    # After the grace a late turn changes no score, opens no live contact; a duplicate summary scores nothing.
    assert not state.on_utterance(utterance("c-1", 12, "customer", -0.9, text="and another"))
    assert not state.on_escalation(escalation("c-1"))
    assert state.on_summary(summary("c-1")) is None
    assert state.sizes() | {"accounts": 0} == {"active": 0, "turns": 0, "escalated": 0, "ended": 1, "accounts": 0}
    assert [a.contacts for a in state.agents()] == [1]  # its outcome still counts for its agent
    assert state.contact("c-1") is not None  # and the drill-down (bounded by count) still shows it


def test_settling_gives_back_most_of_what_an_ended_contact_held():
    import gc
    import tracemalloc

    clock = [0.0]
    # Only what each ended contact holds: the views bounded by count (drill-down, feeds, outlier windows) kept tiny.
    state = InsightsState(InsightsSettings(ended_grace_s=600, max_detail_contacts=1, max_recent=1, outlier_window=5),
                          clock=lambda: clock[0])
    _ended_contact(state, "warm-up")
    gc.collect()
    tracemalloc.start()
    try:
        for i in range(300):
            _ended_contact(state, f"c-{i}")
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
        clock[0] = 601.0
        assert state.settle() == 301
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert kept < held / 4, (held, kept)  # ~0.7 KB of ~5.3 KB per 10-turn contact stays


def test_a_churn_update_leaves_few_new_objects_behind():
    """Accounts outlive contacts: an update that left a fresh dict, list and strings behind pinned pages of the
    short-lived per-contact heap after the contacts expired (issue 12). Now: probability, time and contact id."""
    import gc
    import tracemalloc

    def decoded(text: str) -> str:  # a fresh string, as Avro decoding makes one per record
        return "".join(list(text))

    accounts = 200
    state = InsightsState(InsightsSettings(max_accounts=accounts))
    for a in range(accounts):
        state.on_churn(f"acct-{a}", churn_risk(f"acct-{a}", reasons=("late delivery", "billing dispute")))
    gc.collect()
    tracemalloc.start()
    try:
        for as_of in range(2, 7):
            for a in range(accounts):
                risk = churn_risk(decoded(f"acct-{a}"), probability=0.5 + a / 1e6 + as_of / 1e3, as_of=10**9 + as_of,
                                  band=decoded("high"), last_contact=f"c-{a}-{as_of}",
                                  reasons=(decoded("late delivery"), decoded("billing dispute")))
                state.on_churn(risk.account_id, risk)
        del risk
        gc.collect()
        left = len(tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)]).traces)
    finally:
        tracemalloc.stop()
    assert left <= 3 * accounts + 50, left  # 600 here; 2,205 (11 per account) when each update made a new entry
    assert state.at_risk()[0] | {"probability": 0} == {
        "account_id": "acct-199", "probability": 0, "band": "high", "contacts_seen": 1,
        "last_contact_id": "c-199-6", "as_of_time": 10**9 + 6, "reasons": ["late delivery", "billing dispute"],
        "queue": None, "agent_id": None, "channel": None}


def test_a_settled_contact_keeps_a_few_blocks():
    """What a settled contact leaves for hours (its outcome for coaching and journey, its frozen drill-down, its
    id) is a few blocks: each small object allocated among the short-lived state of contacts in progress pins a
    page of the heap once they expire (issue 12)."""
    import gc
    import tracemalloc

    clock = [0.0]
    contacts = 200  # more than the feeds and outlier windows keep, fewer than the drill-down does
    state = InsightsState(InsightsSettings(ended_grace_s=600, max_recent=5, outlier_window=5), clock=lambda: clock[0])
    _ended_contact(state, "warm-up")
    clock[0] = 601.0
    state.settle()
    gc.collect()
    tracemalloc.start()
    try:
        for i in range(contacts):
            _ended_contact(state, f"c-{i}")
        clock[0] = 1202.0
        assert state.settle() == contacts
        gc.collect()
        left = len(tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)]).traces)
    finally:
        tracemalloc.stop()
    # 7 here (the frozen drill-down, the packed outcomes, the id, two ordered-map nodes); 159 when the drill-down
    # was kept as objects and the outcomes as dataclasses
    assert left <= 8 * contacts, left / contacts
    assert [a.contacts for a in state.agents()] == [contacts + 1]
