"""prepare(): the loop scores the next batch while the previous one commits; handle() then uses those scores,
and only for the very records they were made for."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from cxpulse_core.loop import Incoming
from cxpulse_core.records import Speaker, Utterance
from cxpulse_core.serde import Decoded
from cxpulse_sentiment.handler import SentimentHandler, contact_store


@dataclass
class Prediction:
    score: float
    label: str = "negative"
    score5: float = 0.0
    emotions: tuple = (("anger", 0.5),)


class CountingScorer:
    """A stub model: the score says how long the text was, and every text it was asked to score is noted."""

    version = "stub"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def predict(self, texts):
        self.texts += texts
        return [Prediction(score=round(-0.1 * len(t), 6)) for t in texts]


class Message(SimpleNamespace):
    def partition(self) -> int:
        return 1


def handler() -> SentimentHandler:
    store = contact_store("s", None, read=lambda *_: [])
    h = SentimentHandler(CountingScorer(), {"utterances": "u", "contacts": "c"}, store)
    h.contacts.assign([1])
    h.on_assign([1])
    return h


def said(contact: str, n: int, text: str) -> Incoming:
    record = Utterance(event_id=f"{contact}-{n}", contact_id=contact, account_id="a", queue="q", sequence=n,
                       source="cxpulse", event_time=n, ingest_time=n, origin_time=n, produced_time=n,
                       utterance_id=f"u{n}", turn=n, speaker=Speaker.CUSTOMER, text=text)
    return Incoming(Message(), Decoded(Utterance.SCHEMA, record.to_dict()))


def scores(results) -> list[float]:
    return [outputs[0].value["score"] for outputs in results]


def test_a_batch_prepared_in_parts_is_scored_once_and_as_without_prepare():
    plain, prepared = handler(), handler()
    batch = [said("c", 1, "a"), said("c", 2, "bb"), said("c", 3, "ccc")]
    prepared.prepare(batch[:2])
    prepared.prepare(batch[2:])  # what arrived during the commit
    assert scores(prepared.handle(batch)) == scores(plain.handle([said("c", 1, "a"), said("c", 2, "bb"),
                                                                  said("c", 3, "ccc")])) == [-0.1, -0.2, -0.3]
    assert prepared.model.texts == ["a", "bb", "ccc"]  # handle() scored nothing again


def test_scores_of_a_dropped_batch_are_not_used_for_another():
    h = handler()
    h.prepare([said("c", 1, "dropped after a rewind")])
    again = [said("c", 1, "a")]  # the same turn read again after the rewind: new objects, scored anew
    assert scores(h.handle(again)) == [-0.1]
    assert h.model.texts == ["dropped after a rewind", "a"]
    assert scores(h.handle([said("d", 1, "fine")])) == [-0.4]  # nothing left over from before
