"""The handler's per-contact state TTL, as pure logic (a stub scorer stands in for the model: the TTL does not
depend on scores; an in-memory changelog stands in for the topic)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace

from cxpulse_core.loop import Incoming
from cxpulse_core.records import Speaker, Utterance
from cxpulse_core.serde import Decoded
from cxpulse_sentiment.handler import SentimentHandler, contact_store

TOPICS = {"utterances": "u", "contacts": "c"}


@dataclass
class Prediction:
    score: float = -0.5
    label: str = "negative"
    score5: float = -2.5
    emotions: tuple = (("anger", 0.5),)


class Scorer:
    version = "stub"

    def predict(self, texts):
        return [Prediction() for _ in texts]


class Message(SimpleNamespace):
    def partition(self) -> int:
        return self.p


def utterance(contact: str, n: int, partition: int = 1) -> Incoming:
    record = Utterance(event_id=f"{contact}-{n}", contact_id=contact, account_id="a", queue="q", sequence=n,
                       source="cxpulse", event_time=n, ingest_time=n, origin_time=n, produced_time=n,
                       utterance_id=f"u{n}", turn=n, speaker=Speaker.CUSTOMER, text="this is bad")
    return Incoming(Message(p=partition), Decoded(Utterance.SCHEMA, record.to_dict()))


def handler_with(clock: list[int], changelog: list | None = None, ttl_ms: int = 1_000) -> SentimentHandler:
    store = contact_store("s", None, read=lambda _topic, parts: [r for r in changelog or [] if r.partition() in parts])
    return SentimentHandler(Scorer(), TOPICS, store, ttl_ms=ttl_ms, clock=lambda: clock[0])


def assigned(handler: SentimentHandler, partitions: list[int]) -> SentimentHandler:
    handler.contacts.assign(partitions)  # what the loop does on assignment, before on_assign
    handler.on_assign(partitions)
    return handler


def state_records(handler: SentimentHandler) -> list[tuple[str, bytes | None, int]]:
    return [(o.key, o.value, o.partition) for o in handler.contacts.changes()]


def live(handler: SentimentHandler) -> set[str]:
    return {c for p in handler.contacts.partitions for c, _ in handler.contacts.partition(p).items()}


def as_changelog(records: list[tuple[str, bytes | None, int]]) -> list[SimpleNamespace]:
    return [SimpleNamespace(key=lambda k=k: k.encode(), value=lambda v=v: v, partition=lambda p=p: p,
                            offset=lambda: 0) for k, v, p in records]


def test_contacts_idle_past_the_ttl_are_forgotten_with_a_tombstone_on_their_partition():
    clock = [0]
    handler = assigned(handler_with(clock), [1, 2])
    handler.handle([utterance("old", 1, partition=2)])
    clock[0] = 600
    handler.handle([utterance("new", 1)])
    written = state_records(handler)
    assert {(k, p) for k, _, p in written} == {("old", 2), ("new", 1)}
    clock[0] = 1_200  # "old" idle 1200 ms > 1000: gone; "new" idle 600 ms: kept
    handler.handle([utterance("new", 2)])
    written += (latest := state_records(handler))
    assert ("old", None, 2) in latest and live(handler) == {"new"} and handler.expired == 1
    assert json.loads(next(v for k, v, _ in latest if k == "new"))["a"] == 1_200  # touched, for the next TTL
    restored = assigned(handler_with(clock, as_changelog(written)), [1, 2])  # a restart on that changelog
    assert live(restored) == {"new"} and restored.touched == {"new": (1_200, 1)}
    clock[0] = 2_300
    restored.handle([utterance("other", 1)])
    assert ("new", None, 1) in state_records(restored)
    assert live(restored) == {"other"}


def test_a_revoked_partition_leaves_the_ttl_and_the_state():
    clock = [0]
    handler = assigned(handler_with(clock), [1, 2])
    handler.handle([utterance("a", 1, partition=1), utterance("b", 1, partition=2)])
    handler.contacts.changes()
    handler.on_revoke([2])
    handler.contacts.revoke([2])
    assert set(handler.touched) == {"a"} and live(handler) == {"a"}
    clock[0] = 5_000
    handler.handle([utterance("c", 1, partition=1)])
    assert {(k, v) for k, v, _ in state_records(handler) if v is None} == {("a", None)}  # no tombstone for b


def test_records_of_another_type_are_rejected_and_change_no_state():
    clock = [0]
    handler = assigned(handler_with(clock), [1])
    alert = {"event_id": "e", "contact_id": "a", "rule": "r", "reason": "r", "alert_id": "x", "severity": "info",
             "summary": "s", "event_time": 1, "origin_time": 1, "produced_time": 1}
    alien = Incoming(Message(p=1), Decoded("io.cxpulse.routing.SupervisorAlert", alert))  # typed, not an input
    unknown = Incoming(Message(p=1), Decoded("com.example.Other", {}))
    results = handler.handle([alien, unknown, utterance("a", 1)])
    assert [r.reason for r in results[:2]] == ["unexpected_schema", "unexpected_schema"]
    assert [o.topic for o in results[2]] == ["u", "c"] and live(handler) == {"a"}


def test_a_mass_expiry_shrinks_the_maps_and_the_state_left_carries_on():
    import sys

    from cxpulse_core.memory import MemoryRelease

    clock = [0]
    handler = assigned(handler_with(clock), [1])
    handler.memory = MemoryRelease(min_items=1, min_interval_s=0)  # release on the sweep itself
    handler.handle([utterance(f"gone-{i}", 1) for i in range(5_000)])
    full = sys.getsizeof(handler.contacts.partition(1)._values), sys.getsizeof(handler.touched)
    clock[0] = 600
    handler.handle([utterance("kept", 1)])
    clock[0] = 1_200
    handler.handle([utterance("kept", 2)])
    assert handler.expired == 5_000 and handler.memory.releases == 1 and len(state_records(handler)) == 5_001
    assert live(handler) == set(handler.touched) == {"kept"}
    assert sys.getsizeof(handler.contacts.partition(1)._values) * 20 < full[0]
    assert sys.getsizeof(handler.touched) * 20 < full[1]
    assert len(handler.contacts.partition(1).get("kept").turns) == 2  # two turns, as before the swap
    clock[0] = 2_300
    handler.handle([utterance("next", 1)])
    assert ("kept", None, 1) in state_records(handler)  # expiry order intact
