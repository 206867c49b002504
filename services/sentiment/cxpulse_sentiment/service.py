"""The sentiment handler: scores a batch of utterances at once, then updates each contact in input order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from cxpulse_core.changelog import encode_state
from cxpulse_core.dlq import Reject
from cxpulse_core.ids import derived_id
from cxpulse_core.loop import Incoming, Output, Result

from .contact import ContactState, Turn

NS = "io.cxpulse.interaction."
SCORED_SPEAKERS = ("customer", "agent")
CONTEXT = ("account_id", "customer_id", "agent_id", "queue", "channel", "journey_stage")


class Model(Protocol):
    version: str

    def predict(self, texts: Sequence[str]) -> list[Any]: ...


class SentimentHandler:
    def __init__(self, model: Model, topics: dict[str, str],
                 restore: Callable[[list[int]], Iterable[tuple[str, dict[str, Any] | None]]] | None = None) -> None:
        self.model = model
        self.topics = topics  # keys: utterances, contacts, state
        self.restore = restore
        self.contacts: dict[str, ContactState] = {}
        self.partition_of: dict[str, int] = {}

    # -- state follows partition ownership -------------------------------------------------------------
    def on_assign(self, partitions: list[int]) -> None:
        if self.restore is None:
            return
        for contact_id, data in self.restore(partitions):
            if data is None:
                self.contacts.pop(contact_id, None)
            else:
                self.contacts[contact_id] = ContactState.from_json(contact_id, data)

    def on_revoke(self, partitions: list[int]) -> None:
        gone = [c for c, p in self.partition_of.items() if p in partitions]
        for contact_id in gone:
            self.contacts.pop(contact_id, None)
            del self.partition_of[contact_id]

    # -- processing --------------------------------------------------------------------------------------
    def handle(self, batch: Sequence[Incoming]) -> list[Result]:
        scorable = [i for i in batch if i.record.schema == NS + "Utterance"
                    and i.record.value["speaker"] in SCORED_SPEAKERS]
        predictions = dict(zip((id(i) for i in scorable),
                               self.model.predict([i.record.value["text"] for i in scorable]), strict=True))
        results: list[Result] = []
        touched: dict[str, tuple[list[Output], int]] = {}
        for incoming in batch:
            value, schema = incoming.record.value, incoming.record.schema
            contact_id = value.get("contact_id", "")
            if schema == NS + "ContactStarted":
                outputs = self._started(value)
            elif schema == NS + "Utterance":
                outputs = self._utterance(value, predictions.get(id(incoming)))
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
            changelog = encode_state(state.to_json() if state else None)
            outputs.append(Output(self.topics["state"], contact_id, "", changelog, partition=partition))
            if state is None:
                self.partition_of.pop(contact_id, None)
        return results

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

    def _utterance(self, value: dict[str, Any], prediction: Any) -> list[Output]:
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
                  "emotions": emotions, "model_version": self.model.version}
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
