"""The handler's per-contact state TTL, as pure logic (a stub scorer stands in for the model: the TTL does not
depend on scores)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from cxpulse_core.loop import Incoming
from cxpulse_core.serde import Decoded
from cxpulse_sentiment.service import NS, SentimentHandler

TOPICS = {"utterances": "u", "contacts": "c", "state": "s"}


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
    value = {"event_id": f"{contact}-{n}", "contact_id": contact, "account_id": "a", "customer_id": None,
             "agent_id": None, "queue": "q", "channel": "voice", "journey_stage": None, "utterance_id": f"u{n}",
             "speaker": "customer", "text": "this is bad", "event_time": n, "origin_time": n}
    return Incoming(Message(p=partition), Decoded(NS + "Utterance", value))


def state_records(results) -> list[tuple[str, bytes | None, int]]:
    return [(o.key, o.value, o.partition) for r in results for o in r if o.topic == "s"]


def test_contacts_idle_past_the_ttl_are_forgotten_with_a_tombstone_on_their_partition():
    clock = [0]
    handler = SentimentHandler(Scorer(), TOPICS, ttl_ms=1_000, clock=lambda: clock[0])
    handler.handle([utterance("old", 1, partition=2)])
    clock[0] = 600
    handler.handle([utterance("new", 1)])
    clock[0] = 1_200  # "old" idle 1200 ms > 1000: gone; "new" idle 600 ms: kept
    results = handler.handle([utterance("new", 2)])
    assert ("old", None, 2) in state_records(results)
    assert set(handler.contacts) == {"new"} and "old" not in handler.partition_of and handler.expired == 1
    restored = SentimentHandler(Scorer(), TOPICS, ttl_ms=1_000, clock=lambda: clock[0],
                                restore=lambda _: [("new", handler.contacts["new"].to_json(), 1)])
    restored.on_assign([1])
    assert restored.touched == {"new": 1_200} and restored.partition_of == {"new": 1}
    clock[0] = 2_300
    assert ("new", None, 1) in state_records(restored.handle([utterance("other", 1)]))
    assert set(restored.contacts) == {"other"}


def test_a_mass_expiry_shrinks_the_maps_and_the_state_left_carries_on():
    import sys

    from cxpulse_core.memory import MemoryRelease

    clock = [0]
    handler = SentimentHandler(Scorer(), TOPICS, ttl_ms=1_000, clock=lambda: clock[0])
    handler.memory = MemoryRelease(min_items=1, min_interval_s=0)  # release on the sweep itself
    handler.handle([utterance(f"gone-{i}", 1) for i in range(5_000)])
    full = sys.getsizeof(handler.contacts), sys.getsizeof(handler.partition_of)
    clock[0] = 600
    handler.handle([utterance("kept", 1)])
    clock[0] = 1_200
    results = handler.handle([utterance("kept", 2)])
    assert handler.expired == 5_000 and handler.memory.releases == 1 and len(state_records(results)) == 5_001
    assert set(handler.contacts) == set(handler.touched) == set(handler.partition_of) == {"kept"}
    assert sys.getsizeof(handler.contacts) * 20 < full[0] and sys.getsizeof(handler.partition_of) * 20 < full[1]
    assert handler.contacts["kept"].to_json() is not None  # two turns, as before the swap
    clock[0] = 2_300
    assert ("kept", None, 1) in state_records(handler.handle([utterance("next", 1)]))  # expiry order intact
