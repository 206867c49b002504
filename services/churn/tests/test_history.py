import copy

import pytest
from churn_helpers import contact

from cxpulse_churn.expiry import PendingExpiry
from cxpulse_churn.history import (
    add_entry,
    drop_stale_pending,
    entry_from_summary,
    mark_escalated,
    oldest_pending,
)


def summary(cid: str = "c1", ended: int = 1_000) -> dict:
    speaker = {"turns": 6, "rolling_score": -0.4, "mean_score": -0.3, "quarter_means": [None, -0.2],
               "trend": -0.3, "overall_score": -0.35, "overall_score5": -1.75, "negative_turns": 4,
               "consecutive_negative": 2, "peak_anger": 0.8, "peak_frustration": 0.6}
    return {"event_id": "ev", "contact_id": cid, "account_id": "a1", "customer_id": None, "agent_id": None,
            "queue": None, "channel": "chat", "journey_stage": None, "started_time": ended - 500,
            "ended_time": ended, "status": "completed", "turns": 12, "customer": speaker,
            "agent": dict(speaker, negative_turns=0), "overall_score": -0.35, "overall_score5": -1.75,
            "trend": -0.3, "start_score": -0.1, "end_score": -0.4, "model_version": "m",
            "event_time": ended, "origin_time": ended, "produced_time": ended}


def test_entry_from_summary() -> None:
    e = entry_from_summary(summary())
    assert e == {"contact_id": "c1", "ended_time": 1000, "channel": "chat", "overall_score": -0.35,
                 "start_score": -0.1, "end_score": -0.4, "trend": -0.3, "negative_turns": 4, "turns": 12,
                 "peak_anger": 0.8, "peak_frustration": 0.6, "escalated": False, "status": "completed",
                 "journey_stage": ""}
    with pytest.raises(KeyError, match="customer"):
        entry_from_summary({k: v for k, v in summary().items() if k != "customer"})


def test_replayed_summary_counts_once_and_keeps_escalation() -> None:
    h = add_entry([], entry_from_summary(summary("c1", 2000)))
    h = add_entry(h, entry_from_summary(summary("c0", 1000)))
    h = mark_escalated(h, "c1")
    h = add_entry(h, entry_from_summary(summary("c1", 2000)))  # replay
    assert [e["contact_id"] for e in h] == ["c0", "c1"]
    assert [e["escalated"] for e in h] == [False, True]


def test_bounded_to_most_recent_and_pure() -> None:
    h: list[dict] = []
    for i in range(10):
        before = copy.deepcopy(h)
        h2 = add_entry(h, contact(f"c{i}", days_ago=10 - i, overall=0.0), max_entries=4)
        assert h == before  # input untouched
        h = h2
    assert [e["contact_id"] for e in h] == ["c6", "c7", "c8", "c9"]


def test_escalation_before_summary() -> None:
    assert mark_escalated([], "c9") == []  # unknown contact, no time: ignored
    h = mark_escalated([], "c9", at_ms=500)
    assert h[0]["pending"] is True
    h = add_entry(h, entry_from_summary(summary("c9", 900)))
    assert len(h) == 1 and h[0]["escalated"] is True and "pending" not in h[0]


def done(ended: int) -> dict:
    return dict(contact("done", 0, 0.1), ended_time=ended)


def test_pending_stubs_past_the_cutoff_go_and_completed_contacts_stay() -> None:
    history = mark_escalated(mark_escalated([done(100)], "open-1", at_ms=200), "open-2", at_ms=300)
    assert oldest_pending(history) == 200 and oldest_pending([done(100)]) is None
    assert [e["contact_id"] for e in drop_stale_pending(history, 250)] == ["done", "open-2"]
    assert [e["contact_id"] for e in drop_stale_pending(history, 1_000)] == ["done"]  # old completed ones stay
    assert drop_stale_pending(history, 200) == history


def test_pending_expiry_indexes_the_active_partitions_and_follows_every_change() -> None:
    expiry = PendingExpiry(ttl_s=1)
    stub = mark_escalated([], "open", at_ms=1_000)
    table = {"a": {"partition": 0, "history": stub}, "b": {"partition": 1, "history": stub},
             "c": {"partition": 0, "history": [done(500)]}, "d": None}
    assert expiry.due(table, frozenset({0}), now_ms=1_500) == []  # within the TTL
    assert expiry.due(table, frozenset({0}), now_ms=2_001) == ["a"]  # b: not this worker's partition
    expiry.note("a", [])  # the sweep or the agent dropped it
    assert expiry.due(table, frozenset({0}), now_ms=2_001) == []
    expiry.note("c", mark_escalated([], "late", at_ms=1_900))
    assert expiry.due(table, frozenset({0}), now_ms=3_000) == ["c"]
    # A rebalance re-reads the table for the partitions now held (b's came over, a's row still has its stub).
    assert sorted(expiry.due(table, frozenset({0, 1}), now_ms=3_000)) == ["a", "b"]
