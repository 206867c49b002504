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
from cxpulse_core.settings import KafkaSettings
from cxpulse_core.state import ChangelogState, PartitionState, json_encode

from .contact import ContactState, Turn

NS = "io.cxpulse.interaction."
SCORED_SPEAKERS = ("customer", "agent")
CONTEXT = ("account_id", "customer_id", "agent_id", "queue", "channel", "journey_stage")


class Model(Protocol):
    version: str

    def predict(self, texts: Sequence[str]) -> list[Any]: ...


def contact_store(topic: str, kafka: KafkaSettings | None,
                  read: Callable[[str, list[int]], Iterable[Message]] | None = None) -> ChangelogState[ContactState]:
    """Live contacts by partition, backed by the changelog `topic` (cx.sentiment.contact-state)."""
    return ChangelogState(topic, kafka, encode=lambda state: json_encode(state.to_json()),
                          decode=lambda key, raw: ContactState.from_json(key, json.loads(raw)), read=read)


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
    def handle(self, batch: Sequence[Incoming]) -> list[Result]:
        scorable = [i for i in batch if i.record.schema == NS + "Utterance"
                    and i.record.value["speaker"] in SCORED_SPEAKERS]
        predicted = self.model.predict([i.record.value["text"] for i in scorable])
        predictions = dict(zip((id(i) for i in scorable), predicted, strict=True))
        embeddings = self._pack([id(i) for i in scorable], predicted)
        results: list[Result] = []
        now = self.clock()
        for incoming in batch:
            value, schema = incoming.record.value, incoming.record.schema
            partition = incoming.message.partition()
            contacts = self.contacts.partition(partition)
            if schema == NS + "ContactStarted":
                outputs = self._started(contacts, value)
            elif schema == NS + "Utterance":
                outputs = self._utterance(contacts, value, predictions.get(id(incoming)), embeddings.get(id(incoming)))
            elif schema == NS + "ContactEnded":
                outputs = self._ended(contacts, value)
            else:
                results.append(Reject("unexpected_schema", f"{schema} does not belong on the interactions topic"))
                continue
            contact_id = value["contact_id"]
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
    def _state(contacts: PartitionState[ContactState], value: dict[str, Any]) -> ContactState:
        """The contact's state, marked changed (one changelog record per contact per batch)."""
        contact_id = value["contact_id"]
        state = contacts.get(contact_id)
        if state is None:
            state = ContactState(contact_id, {k: value.get(k) for k in CONTEXT}, value["event_time"])
        state.fill_context(value)
        contacts.set(contact_id, state)
        return state

    def _started(self, contacts: PartitionState[ContactState], value: dict[str, Any]) -> list[Output]:
        self._state(contacts, value)
        return []

    def _utterance(self, contacts: PartitionState[ContactState], value: dict[str, Any], prediction: Any,
                   embedding: dict[str, Any] | None = None) -> list[Output]:
        state = self._state(contacts, value)
        number = state.admit(value["event_id"])
        if number is None or prediction is None:  # a replay must not count twice; bot and system turns carry
            return []  # no participant's sentiment
        emotions = dict(prediction.emotions)
        state.add(Turn(number, value["speaker"], prediction.score, prediction.label,
                       emotions.get("anger", 0.0), emotions.get("frustration", 0.0)))
        common = {"contact_id": state.contact_id, **state.context, "event_time": value["event_time"],
                  "origin_time": value["origin_time"], "produced_time": 0}
        scored = {**common, "event_id": derived_id(value["event_id"], "sentiment"),
                  "utterance_id": value["utterance_id"], "utterance_event_id": value["event_id"],
                  "turn": number, "speaker": value["speaker"], "text": value["text"],
                  "label": prediction.label, "score": prediction.score, "score5": prediction.score5,
                  "emotions": emotions, "model_version": self.model.version, "embedding": embedding}
        summary = state.summary_fields()
        update = {**common, "event_id": derived_id(value["event_id"], "contact-update"), "turn": number,
                  "speaker": value["speaker"], "utterance_id": value["utterance_id"], "last_label": prediction.label,
                  "last_score": prediction.score, "last_emotions": emotions,
                  "customer": summary["customer"], "agent": summary["agent"],
                  "model_version": self.model.version}
        return [Output(self.topics["utterances"], state.contact_id, "io.cxpulse.sentiment.UtteranceSentiment", scored),
                Output(self.topics["contacts"], state.contact_id, "io.cxpulse.sentiment.ContactSentimentUpdate",
                       update)]

    def _ended(self, contacts: PartitionState[ContactState], value: dict[str, Any]) -> list[Output]:
        state = self._state(contacts, value)
        summary = {"event_id": derived_id(value["event_id"], "contact-summary"), "contact_id": state.contact_id,
                   **state.context, "started_time": state.started_time, "ended_time": value["event_time"],
                   "status": value.get("status", "completed"), **state.summary_fields(),
                   "model_version": self.model.version, "event_time": value["event_time"],
                   "origin_time": value["origin_time"], "produced_time": 0}
        contacts.delete(state.contact_id)  # a tombstone in the changelog
        return [Output(self.topics["contacts"], state.contact_id, "io.cxpulse.sentiment.ContactSummary", summary)]
