"""The sentiment handler: scores a batch of utterances at once, then updates each contact in input order."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import numpy as np

from cxpulse_core.changelog import encode_state
from cxpulse_core.dlq import Reject
from cxpulse_core.embedding import pack_many
from cxpulse_core.ids import derived_id, now_ms
from cxpulse_core.loop import Incoming, Output, Result
from cxpulse_core.memory import MemoryRelease, compacted

from .contact import ContactState, Turn

NS = "io.cxpulse.interaction."
SCORED_SPEAKERS = ("customer", "agent")
CONTEXT = ("account_id", "customer_id", "agent_id", "queue", "channel", "journey_stage")


class Model(Protocol):
    version: str

    def predict(self, texts: Sequence[str]) -> list[Any]: ...


class SentimentHandler:
    """`ttl_ms`: a contact that never ends is forgotten this long after its last event (wall clock), with a
    tombstone in the changelog; `clock` gives that wall clock (ms)."""

    def __init__(self, model: Model, topics: dict[str, str],
                 restore: Callable[[list[int]], Iterable[tuple[Any, ...]]] | None = None,
                 ttl_ms: int = 4 * 3_600_000, clock: Callable[[], int] = now_ms) -> None:
        self.model = model
        self.topics = topics  # keys: utterances, contacts, state
        self.restore = restore
        self.ttl_ms, self.clock = ttl_ms, clock
        self.contacts: dict[str, ContactState] = {}
        self.partition_of: dict[str, int] = {}
        self.touched: OrderedDict[str, int] = OrderedDict()  # contact -> last event (ms), least recent first
        self.expired = 0
        self._unsent: list[Output] = []  # tombstones of a batch without outputs to carry them
        self._embeddings: dict[int, dict[str, Any]] = {}  # this batch's packed embeddings, by id() of the input
        self.memory = MemoryRelease()

    # -- state follows partition ownership -------------------------------------------------------------
    def on_assign(self, partitions: list[int]) -> None:
        if self.restore is None:
            return
        now = self.clock()
        for item in self.restore(partitions):  # (contact id, state or None[, partition])
            contact_id, data = item[0], item[1]
            if data is None:
                self.contacts.pop(contact_id, None)
                self.touched.pop(contact_id, None)
            else:
                state = self.contacts[contact_id] = ContactState.from_json(contact_id, data)
                self.touched[contact_id] = state.touched_ms or now  # records written before the TTL: from now
                if len(item) > 2:
                    self.partition_of[contact_id] = item[2]
        self.touched = OrderedDict(sorted(self.touched.items(), key=lambda kv: kv[1]))

    def on_revoke(self, partitions: list[int]) -> None:
        gone = [c for c, p in self.partition_of.items() if p in partitions]
        for contact_id in gone:
            self.contacts.pop(contact_id, None)
            self.touched.pop(contact_id, None)
            del self.partition_of[contact_id]
        self._unsent = [o for o in self._unsent if o.partition not in partitions]

    # -- processing --------------------------------------------------------------------------------------
    def handle(self, batch: Sequence[Incoming]) -> list[Result]:
        scorable = [i for i in batch if i.record.schema == NS + "Utterance"
                    and i.record.value["speaker"] in SCORED_SPEAKERS]
        predicted = self.model.predict([i.record.value["text"] for i in scorable])
        predictions = dict(zip((id(i) for i in scorable), predicted, strict=True))
        self._embeddings = self._pack([id(i) for i in scorable], predicted)
        results: list[Result] = []
        touched: dict[str, tuple[list[Output], int]] = {}
        now = self.clock()
        for incoming in batch:
            value, schema = incoming.record.value, incoming.record.schema
            contact_id = value.get("contact_id", "")
            if schema == NS + "ContactStarted":
                outputs = self._started(value)
            elif schema == NS + "Utterance":
                outputs = self._utterance(value, predictions.get(id(incoming)), self._embeddings.get(id(incoming)))
            elif schema == NS + "ContactEnded":
                outputs = self._ended(value)
            else:
                results.append(Reject("unexpected_schema", f"{schema} does not belong on the interactions topic"))
                continue
            partition = incoming.message.partition()
            self.partition_of[contact_id] = partition
            touched[contact_id] = (outputs, partition)
            results.append(outputs)
        # One changelog record per touched contact per batch, in the same transaction as the outputs.
        for contact_id, (outputs, partition) in touched.items():
            state = self.contacts.get(contact_id)
            if state is not None:
                state.touched_ms = now
                self.touched[contact_id] = now
                self.touched.move_to_end(contact_id)
            else:
                self.touched.pop(contact_id, None)
            changelog = encode_state(state.to_json() if state else None)
            outputs.append(Output(self.topics["state"], contact_id, "", changelog, partition=partition))
            if state is None:
                self.partition_of.pop(contact_id, None)
        self._expire(now, results)
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
        self.contacts, self.touched = compacted(self.contacts), compacted(self.touched)
        self.partition_of = compacted(self.partition_of)

    def _expire(self, now: int, results: list[Result]) -> None:
        """Forgets contacts idle past the TTL (they never sent ContactEnded), tombstoning their changelog
        records in this batch's transaction; O(number forgotten)."""
        tombstones = self._unsent
        before = self.expired
        while self.touched:
            contact_id, last = next(iter(self.touched.items()))
            if now - last <= self.ttl_ms:
                break
            del self.touched[contact_id]
            self.contacts.pop(contact_id, None)
            partition = self.partition_of.pop(contact_id, None)
            self.expired += 1
            if partition is not None:
                tombstones.append(Output(self.topics["state"], contact_id, "", None, partition=partition))
        self.memory.note(self.expired - before, self._compact)
        carrier = next((r for r in reversed(results) if isinstance(r, list)), None)
        if carrier is None:
            self._unsent = tombstones
            return
        carrier.extend(tombstones)
        self._unsent = []

    def _state(self, value: dict[str, Any]) -> ContactState:
        contact_id = value["contact_id"]
        if contact_id not in self.contacts:
            context = {k: value.get(k) for k in CONTEXT}
            self.contacts[contact_id] = ContactState(contact_id, context, value["event_time"])
        state = self.contacts[contact_id]
        state.fill_context(value)
        return state

    def _started(self, value: dict[str, Any]) -> list[Output]:
        self._state(value)
        return []

    def _utterance(self, value: dict[str, Any], prediction: Any,
                   embedding: dict[str, Any] | None = None) -> list[Output]:
        state = self._state(value)
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

    def _ended(self, value: dict[str, Any]) -> list[Output]:
        state = self._state(value)
        summary = {"event_id": derived_id(value["event_id"], "contact-summary"), "contact_id": state.contact_id,
                   **state.context, "started_time": state.started_time, "ended_time": value["event_time"],
                   "status": value.get("status", "completed"), **state.summary_fields(),
                   "model_version": self.model.version, "event_time": value["event_time"],
                   "origin_time": value["origin_time"], "produced_time": 0}
        del self.contacts[state.contact_id]  # the tombstone in the changelog follows in handle()
        return [Output(self.topics["contacts"], state.contact_id, "io.cxpulse.sentiment.ContactSummary", summary)]
