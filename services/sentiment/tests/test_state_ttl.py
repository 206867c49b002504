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
