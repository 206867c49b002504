from __future__ import annotations

import pytest

from cxpulse_ingest.raw_event import Rejected
from cxpulse_ingest.state import ContactOrder, DedupWindow


def test_dedup_sees_repeat_within_ttl_and_forgets_after() -> None:
    window = DedupWindow(max_ids=10, ttl_ms=1_000)
    assert window.seen("a", 0) is False
    assert window.seen("a", 999) is True
    assert window.seen("a", 2_001) is False  # expired at 1_000 past its first sighting
    assert len(window) == 1


def test_dedup_is_bounded_and_evicts_oldest() -> None:
    window = DedupWindow(max_ids=3, ttl_ms=10**9)
    for i in range(5):
        window.seen(f"id{i}", i)
    assert len(window) == 3
    assert window.seen("id0", 10) is False  # evicted
    assert window.seen("id4", 10) is True


def test_dedup_contains_does_not_record() -> None:
    window = DedupWindow(max_ids=3, ttl_ms=100)
    assert window.contains("x", 0) is False
    assert window.contains("x", 1) is False
    window.add("x", 1)
    assert window.contains("x", 2) is True


def order(tolerance_ms: int = 1_000, max_contacts: int = 100) -> ContactOrder:
    return ContactOrder(max_contacts=max_contacts, tolerance_ms=tolerance_ms, forget_after_ms=60_000)


def test_given_sequences_must_increase() -> None:
    contacts = order()
    assert contacts.admit("c", "contact_started", 1, 0, 0).sequence == 1
    assert contacts.admit("c", "utterance", 5, 0, 0).sequence == 5  # gaps are fine
    with pytest.raises(Rejected) as info:
        contacts.admit("c", "utterance", 5, 0, 0)
    assert (info.value.reason, info.value.field) == ("out_of_order", "sequence")


def test_without_sequence_time_may_lag_only_by_tolerance_and_sequence_is_assigned() -> None:
    contacts = order(tolerance_ms=1_000)
    assert contacts.admit("c", "utterance", None, 10_000, 0).sequence == 0
    assert contacts.admit("c", "utterance", None, 9_000, 0).sequence == 1  # exactly at tolerance
    with pytest.raises(Rejected) as info:
        contacts.admit("c", "utterance", None, 8_999, 0)
    assert (info.value.reason, info.value.field) == ("out_of_order", "timestamp")


def test_turns_count_utterances_only() -> None:
    contacts = order()
    assert contacts.admit("c", "contact_started", None, 0, 0).turn == 0
    assert [contacts.admit("c", "utterance", None, t, 0).turn for t in (1, 2, 3)] == [1, 2, 3]
    assert contacts.admit("other", "utterance", None, 0, 0).turn == 1  # per contact


def test_nothing_after_end_until_forgotten() -> None:
    contacts = order()
    contacts.admit("c", "utterance", None, 0, now_ms=0)
    contacts.admit("c", "contact_ended", None, 1, now_ms=100)
    with pytest.raises(Rejected) as info:
        contacts.admit("c", "utterance", None, 2, now_ms=200)
    assert info.value.reason == "out_of_order" and "after contact_ended" in info.value.detail
    # 60 s after the end the contact is forgotten: the id may be reused as a fresh contact
    assert contacts.admit("c", "utterance", None, 3, now_ms=60_101).turn == 1


def test_rejected_event_does_not_change_state() -> None:
    contacts = order()
    contacts.admit("c", "utterance", 3, 0, 0)
    with pytest.raises(Rejected):
        contacts.admit("c", "utterance", 2, 0, 0)
    assert contacts.admit("c", "utterance", 4, 0, 0).turn == 2


def test_contacts_are_lru_bounded() -> None:
    contacts = order(max_contacts=2)
    contacts.admit("a", "utterance", None, 0, 0)
    contacts.admit("b", "utterance", None, 0, 0)
    contacts.admit("a", "utterance", None, 0, 0)  # a is now most recent
    contacts.admit("c", "utterance", None, 0, 0)
    assert len(contacts) == 2 and contacts.get("b") is None and contacts.get("a") is not None
    assert contacts.evicted == 1


def test_contacts_that_never_end_expire_after_the_idle_ttl_with_tombstones() -> None:
    contacts = ContactOrder(max_contacts=100, tolerance_ms=1_000, forget_after_ms=300, idle_ttl_ms=1_000)
    contacts.admit("old", "utterance", None, 0, now_ms=0)
    contacts.admit("new", "utterance", None, 0, now_ms=900)
    contacts.admit("done", "contact_ended", None, 0, now_ms=950)
    assert set(contacts.changes()) == {"old", "new", "done"}
    assert contacts.expire(now_ms=1_200) == 1 and contacts.get("old") is None
    assert contacts.changes() == {"old": None}  # a tombstone for the changelog
    assert contacts.expire(now_ms=1_300) == 1 and contacts.changes() == {"done": None}  # 300 ms after its end
    contacts.admit("new", "utterance", None, 1, now_ms=1_800)  # touched again: lives on
    contacts.changes()
    assert contacts.expire(now_ms=2_500) == 0
    assert contacts.expire(now_ms=2_801) == 1 and len(contacts) == 0 and contacts.changes() == {"new": None}


def test_lru_eviction_is_reported_as_a_tombstone() -> None:
    contacts = order(max_contacts=1)
    contacts.admit("a", "utterance", None, 0, 0)
    contacts.admit("b", "utterance", None, 0, 0)
    assert contacts.changes() == {"a": None, "b": contacts.get("b")}


def test_a_contact_survives_the_changelog_round_trip() -> None:
    from cxpulse_ingest.ingestor import Ingestor

    before = Ingestor()
    before.process(b'{"event_id":"e1","type":"contact_started","contact_id":"c","timestamp":"2026-01-01T00:00:00Z",'
                   b'"account_id":"acct-9"}', "cxpulse", 0, 1_000)
    before.process(b'{"event_id":"e2","type":"utterance","contact_id":"c","timestamp":"2026-01-01T00:00:01Z",'
                   b'"speaker":"customer","text":"hello"}', "cxpulse", 0, 1_001)
    changelog = before.changes()
    after = Ingestor()  # a restarted process
    for contact_id, value in changelog.items():
        after.load(contact_id, value)
    after.restored()
    assert after.process(b'{"event_id":"e2","type":"utterance","contact_id":"c","timestamp":"2026-01-01T00:00:01Z",'
                         b'"speaker":"customer","text":"hello"}', "cxpulse", 0, 1_002) is None  # still a duplicate
    [out] = after.process(b'{"event_id":"e3","type":"utterance","contact_id":"c",'
                          b'"timestamp":"2026-01-01T00:00:02Z","speaker":"agent","text":"hi"}', "cxpulse", 0, 1_003)
    assert (out.sequence, out.turn, out.account_id) == (2, 2, "acct-9")  # not renumbered


def test_compacting_after_a_mass_expiry_keeps_order_and_dedup() -> None:
    import sys

    contacts = ContactOrder(max_contacts=10_000, tolerance_ms=1_000, forget_after_ms=300, idle_ttl_ms=1_000)
    dedup = DedupWindow(max_ids=10_000, ttl_ms=1_000)
    for i in range(5_000):
        contacts.admit(f"gone-{i}", "utterance", None, 0, now_ms=0)
        dedup.add(f"e-{i}", 0)
    contacts.admit("kept", "utterance", None, 0, now_ms=600)
    dedup.add("e-kept", 600)
    full = sys.getsizeof(contacts._contacts), sys.getsizeof(dedup._seen_at)
    assert contacts.expire(now_ms=1_200) == 5_000 and not dedup.contains("e-0", 1_200)
    contacts.compact()
    dedup.compact()
    assert sys.getsizeof(contacts._contacts) * 10 < full[0] and sys.getsizeof(dedup._seen_at) * 10 < full[1]
    assert dedup.contains("e-kept", 1_200) and contacts.admit("kept", "utterance", None, 1, now_ms=1_300).turn == 2
    assert contacts.expire(now_ms=2_301) == 1 and len(contacts) == 0
