"""Supervisors' label corrections: a turn shown in the drill-down whose label the supervisor marks wrong becomes an
io.cxpulse.feedback.LabelCorrection on cx.feedback.labels (key: contact id), with who (the authenticated user),
when, the model's label, score and version, and the turn's redacted text. Training reads them back
(`cxpulse train sentiment --feedback`)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from cxpulse_core.ids import now_ms
from cxpulse_core.kafka import make_producer
from cxpulse_core.records import LabelCorrection, SentimentLabel, Speaker
from cxpulse_core.serde import Serde, encode_record
from cxpulse_core.settings import KafkaSettings

LABELS = tuple(SentimentLabel)


class CorrectionError(ValueError):
    """A correction that cannot be made (bad label, unknown turn): the API answers 4xx with this text."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def correction_record(context: dict[str, Any], turn: dict[str, Any], label: str, user: str) -> LabelCorrection:
    """The correction of `turn` (as the drill-down shows it) of the contact with `context` to `label`."""
    if label not in LABELS:
        raise CorrectionError(f"label must be one of {', '.join(LABELS)}")
    if label == turn["label"]:
        raise CorrectionError(f"the model already said {label}")
    now = now_ms()
    return LabelCorrection(
        event_id=str(uuid.uuid4()), contact_id=context["contact_id"], account_id=context.get("account_id"),
        agent_id=context.get("agent_id"), queue=context.get("queue"), channel=context.get("channel") or "voice",
        utterance_id=turn.get("utterance_id"), turn=turn["turn"], speaker=Speaker(turn["speaker"]),
        text=turn["text"], model_label=SentimentLabel(turn["label"]), model_score=float(turn["score"]),
        model_version=turn.get("model_version") or "unknown", corrected_label=SentimentLabel(label),
        corrected_by=user, utterance_time=turn["event_time"], event_time=now, produced_time=now)


class CorrectionSink:
    """Produces corrections and waits for the broker's acknowledgement (a supervisor sees "saved" only when
    the correction is durable). One idempotent producer, made on first use."""

    def __init__(self, kafka: KafkaSettings, topic: str, serde: Serde) -> None:
        self.kafka, self.topic, self.serde = kafka, topic, serde
        self._producer: Producer | None = None

    async def send(self, record: LabelCorrection, timeout_s: float = 15.0) -> None:
        if self._producer is None:
            self._producer = make_producer(self.kafka)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def delivered(error: KafkaError | None, _: Message) -> None:  # on the poll thread below
            def settle() -> None:
                if done.done():
                    return
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(RuntimeError(f"correction not stored: {error}"))
            loop.call_soon_threadsafe(settle)

        value = encode_record(self.serde, record, self.topic)
        self._producer.produce(self.topic, value, record.contact_id.encode(), on_delivery=delivered)
        await loop.run_in_executor(None, self._producer.flush, timeout_s)
        await asyncio.wait_for(done, timeout_s)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(5)
