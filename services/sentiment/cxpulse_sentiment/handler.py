"""The sentiment handler: scores a batch of utterances at once, then updates each contact in input order
(per-contact state: core's changelog-backed state, cx.sentiment.contact-state)."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import numpy as np
from confluent_kafka import Message

from cxpulse_core.dlq import Reject
from cxpulse_core.embedding import pack_many
from cxpulse_core.ids import derived_id, now_ms
from cxpulse_core.loop import Incoming, Output, Result
from cxpulse_core.memory import MemoryRelease, compacted
from cxpulse_core.records import (
    ContactEnded,
    ContactSentimentUpdate,
    ContactStarted,
    ContactSummary,
    Record,
    Speaker,
    Utterance,
    UtteranceSentiment,
)
from cxpulse_core.serde import SerdeError
from cxpulse_core.settings import KafkaSettings
from cxpulse_core.state import ChangelogState, PartitionState, json_encode

from .contact import ContactState, Turn

SCORED_SPEAKERS = (Speaker.CUSTOMER, Speaker.AGENT)
CONTEXT = ("account_id", "customer_id", "agent_id", "queue", "channel", "journey_stage")


class Model(Protocol):
    version: str

    def predict(self, texts: Sequence[str]) -> list[Any]: ...


def contact_store(topic: str, kafka: KafkaSettings | None,
                  read: Callable[[str, list[int]], Iterable[Message]] | None = None) -> ChangelogState[ContactState]:
    """Live contacts by partition, backed by the changelog `topic` (cx.sentiment.contact-state)."""
    return ChangelogState(topic, kafka, encode=lambda state: json_encode(state.to_json()),
                          decode=lambda key, raw: ContactState.from_json(key, json.loads(raw)), read=read)


Event = ContactStarted | Utterance | ContactEnded
Scored = tuple[Utterance, Any, dict[str, Any] | None]  # a scored turn: record, prediction, packed embedding


def _typed(incoming: Incoming) -> Record | Reject:
    try:
        return incoming.record.typed
    except SerdeError as exc:  # a writer schema schemas/ does not define, or a value that does not fit it
        return Reject("unexpected_schema", str(exc), "SerdeError")


class SentimentHandler:
    """`contacts`: live contacts per partition (core's changelog-backed state). `ttl_ms`: a contact that never
    ends is forgotten this long after its last event (wall clock), with a tombstone in the changelog; `clock`
    gives that wall clock (ms)."""

    def __init__(self, model: Model, topics: dict[str, str], contacts: ChangelogState[ContactState],
                 ttl_ms: int = 4 * 3_600_000, clock: Callable[[], int] = now_ms) -> None:
        self.model = model
        self.topics = topics  # keys: utterances, contacts
        self.contacts = contacts
        self.stores = [contacts]  # the loop restores, drops and writes it
        self.ttl_ms, self.clock = ttl_ms, clock
        # contact -> (last event in ms, partition), least recent first: the TTL sweep is O(number forgotten)
        self.touched: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self.expired = 0
        self.memory = MemoryRelease()
        # What prepare() scored for the next batch: id(record) -> (record, prediction, packed embedding). The
        # record is kept so that an id reused after a batch was dropped (a rewind) cannot match.
        self._scored: dict[int, Scored] = {}

    # -- the TTL follows partition ownership (the loop restores and drops the state itself) ----------------
    def on_assign(self, partitions: list[int]) -> None:
        now = self.clock()
        for p in partitions:
            for contact_id, state in self.contacts.partition(p).items():
                self.touched[contact_id] = (state.touched_ms or now, p)  # written before the TTL: from now
        self.touched = OrderedDict(sorted(self.touched.items(), key=lambda kv: kv[1][0]))

    def on_revoke(self, partitions: list[int]) -> None:
        gone = set(partitions)
        self.touched = OrderedDict((c, t) for c, t in self.touched.items() if t[1] not in gone)

    # -- processing --------------------------------------------------------------------------------------
    def prepare(self, part: Sequence[Incoming]) -> None:
        """Scores the turns of (part of) the next batch, which reads no state: the loop runs this while the
        previous batch's transaction commits, and handle() takes the predictions from here."""
        self._scored.update(self._score([_typed(i) for i in part]))

    def _score(self, records: list[Record | Reject]) -> dict[int, Scored]:
        """The prediction and packed embedding of each scorable utterance among `records`, by id(record)."""
        scorable = [r for r in records if isinstance(r, Utterance) and r.speaker in SCORED_SPEAKERS]
        predicted = self.model.predict([r.text for r in scorable])
        embeddings = self._pack([id(r) for r in scorable], predicted)
        return {id(r): (r, p, embeddings.get(id(r))) for r, p in zip(scorable, predicted, strict=True)}

    def handle(self, batch: Sequence[Incoming]) -> list[Result]:
        records = [_typed(i) for i in batch]  # typed once per record: the same objects prepare() scored
        prepared, self._scored = self._scored, {}
        by_id = {id(r): r for r in records}
        scored = {k: v for k, v in prepared.items() if by_id.get(k) is v[0]}  # not a dropped batch's
        scored |= self._score([r for r in records if id(r) not in scored])  # all of them without prepare()
        results: list[Result] = []
        now = self.clock()
        for incoming, record in zip(batch, records, strict=True):
            partition = incoming.message.partition()
            contacts = self.contacts.partition(partition)
            match record:
                case Reject():
                    results.append(record)
                    continue
                case ContactStarted():
                    outputs = self._started(contacts, record)
                case Utterance():
                    _, prediction, embedding = scored.get(id(record), (None, None, None))
                    outputs = self._utterance(contacts, record, prediction, embedding)
                case ContactEnded():
                    outputs = self._ended(contacts, record)
                case _:
                    results.append(Reject("unexpected_schema",
                                          f"{record.SCHEMA} does not belong on the interactions topic"))
                    continue
            contact_id = record.contact_id
            state = contacts.get(contact_id)
            if state is not None:
                state.touched_ms = now
                self.touched[contact_id] = (now, partition)
                self.touched.move_to_end(contact_id)
            else:
                self.touched.pop(contact_id, None)
            results.append(outputs)
        self._expire(now)
        return results

    def _pack(self, keys: list[int], predicted: list[Any]) -> dict[int, dict[str, Any]]:
        """The batch's embeddings in compact form (cxpulse_core.embedding), packed in one vectorised step."""
        encoder = getattr(self.model, "encoder_version", None)
        rows = [(k, p.vector) for k, p in zip(keys, predicted, strict=True) if getattr(p, "vector", None) is not None]
        if not rows or encoder is None:
            return {}
        return dict(zip((k for k, _ in rows), pack_many(np.stack([v for _, v in rows]), encoder), strict=True))

    def _compact(self) -> None:
        """After an expiry sweep, before the trim: maps re-sized (a dict's table never shrinks on delete)."""
        self.touched = compacted(self.touched)
        for p in self.contacts.partitions:
            self.contacts.partition(p).compact()

    def _expire(self, now: int) -> None:
        """Forgets contacts idle past the TTL (they never sent ContactEnded); the state's delete tombstones their
        changelog records in this batch."""
        before = self.expired
        while self.touched:
            contact_id, (last, partition) = next(iter(self.touched.items()))
            if now - last <= self.ttl_ms:
                break
            del self.touched[contact_id]
            self.contacts.partition(partition).delete(contact_id)
            self.expired += 1
        self.memory.note(self.expired - before, self._compact)

    @staticmethod
    def _state(contacts: PartitionState[ContactState], record: Event) -> ContactState:
        """The contact's state, marked changed (one changelog record per contact per batch)."""
        context = {k: getattr(record, k) for k in CONTEXT}
        state = contacts.get(record.contact_id)
        if state is None:
            state = ContactState(record.contact_id, context, record.event_time)
        state.fill_context(context)
        contacts.set(record.contact_id, state)
        return state

    def _started(self, contacts: PartitionState[ContactState], started: ContactStarted) -> list[Output]:
        self._state(contacts, started)
        return []

    def _utterance(self, contacts: PartitionState[ContactState], utterance: Utterance, prediction: Any,
                   embedding: dict[str, Any] | None = None) -> list[Output]:
        state = self._state(contacts, utterance)
        speaker = utterance.speaker.value
        number = state.admit(utterance.event_id)
        if number is None or prediction is None:  # a replay must not count twice; bot and system turns carry
            return []  # no participant's sentiment
        emotions = dict(prediction.emotions)
        state.add(Turn(number, speaker, prediction.score, prediction.label,
                       emotions.get("anger", 0.0), emotions.get("frustration", 0.0)))
        common = {"contact_id": state.contact_id, **state.context, "event_time": utterance.event_time,
                  "origin_time": utterance.origin_time, "produced_time": 0}
        scored = {**common, "event_id": derived_id(utterance.event_id, "sentiment"),
                  "utterance_id": utterance.utterance_id, "utterance_event_id": utterance.event_id,
                  "turn": number, "speaker": speaker, "text": utterance.text,
                  "label": prediction.label, "score": prediction.score, "score5": prediction.score5,
                  "emotions": emotions, "model_version": self.model.version, "embedding": embedding}
        summary = state.summary_fields()
        update = {**common, "event_id": derived_id(utterance.event_id, "contact-update"), "turn": number,
                  "speaker": speaker, "utterance_id": utterance.utterance_id, "last_label": prediction.label,
                  "last_score": prediction.score, "last_emotions": emotions,
                  "customer": summary["customer"], "agent": summary["agent"],
                  "model_version": self.model.version}
        return [Output(self.topics["utterances"], state.contact_id, UtteranceSentiment.SCHEMA, scored),
                Output(self.topics["contacts"], state.contact_id, ContactSentimentUpdate.SCHEMA, update)]

    def _ended(self, contacts: PartitionState[ContactState], ended: ContactEnded) -> list[Output]:
        state = self._state(contacts, ended)
        summary = {"event_id": derived_id(ended.event_id, "contact-summary"), "contact_id": state.contact_id,
                   **state.context, "started_time": state.started_time, "ended_time": ended.event_time,
                   "status": ended.status, **state.summary_fields(),
                   "model_version": self.model.version, "event_time": ended.event_time,
                   "origin_time": ended.origin_time, "produced_time": 0}
        contacts.delete(state.contact_id)  # a tombstone in the changelog
        return [Output(self.topics["contacts"], state.contact_id, ContactSummary.SCHEMA, summary)]
