"""Everything the service writes to Kafka: the delivery log, the outcome changelog and dead letters. A final
outcome's records count against its input's OffsetTracker entry, so the input's offset is stored only once the
broker acknowledged all of them."""

from __future__ import annotations

import logging
import time
import uuid

from confluent_kafka import KafkaError, Message, Producer

from cxpulse_core.dlq import Reject, deadletter_headers
from cxpulse_core.ids import derived_id
from cxpulse_core.offsets import OffsetTracker
from cxpulse_core.serde import Serde

from . import metrics
from .model import Delivery, Source
from .policy import DEDUPLICATED, FAILED, AttemptResult
from .state import outcome_record

log = logging.getLogger(__name__)
LOG_SCHEMA = "io.cxpulse.notification.NotificationDelivery"


class Outputs:
    def __init__(self, producer: Producer, serde: Serde, log_topic: str, changelog_topic: str,
                 deadletter_topic: str) -> None:
        self.producer, self.serde = producer, serde
        self.log_topic, self.changelog_topic, self.deadletter_topic = log_topic, changelog_topic, deadletter_topic
        self.run_id = uuid.uuid4().hex  # attempts restart at 1 after a restart: keep their event ids distinct
        self.error: str | None = None

    def log(self, delivery: Delivery, outcome: str, result: AttemptResult | None, error: str | None = None,
            next_attempt_ms: int | None = None, entry: list[int] | None = None) -> None:
        now = int(time.time() * 1000)
        notice = delivery.notice
        record = {
            "event_id": derived_id(self.run_id, delivery.key, delivery.attempt, outcome),
            "alert_id": notice.alert_id, "contact_id": notice.contact_id, "channel": delivery.target.channel,
            "recipient": delivery.target.recipient, "attempt": delivery.attempt, "outcome": outcome,
            "status_code": result.status_code if result else None,
            "error": (result.error if result and result.error else error),
            "next_attempt_time": next_attempt_ms, "latency_ms": float(now - notice.origin_time),
            "origin_time": notice.origin_time, "produced_time": now,
        }
        payload = self.serde.encode(LOG_SCHEMA, record, self.log_topic)
        self._produce(self.log_topic, notice.alert_id.encode(), payload, [], entry)

    def final(self, delivery: Delivery, outcome: str, result: AttemptResult | None, reason: str,
              error: str | None) -> None:
        """The log record, the changelog record (except for duplicates) and, for failures, the dead letter."""
        entry = delivery.source.entry
        count = 1 + (outcome != DEDUPLICATED) + (outcome == FAILED)
        entry[1] += count - 1  # the entry counted this delivery once; it now waits for `count` acks
        self.log(delivery, outcome, result, error, entry=entry)
        if outcome != DEDUPLICATED:
            self._produce(self.changelog_topic, delivery.key.encode(),
                          outcome_record(outcome, int(time.time() * 1000)), [], entry)
        if outcome == FAILED:
            detail = (f"{delivery.target.channel} {delivery.target.recipient}: {reason} after {delivery.attempt} "
                      f"attempt(s): {result.error if result else error}")
            self.deadletter(delivery.source, reason, detail, "DeliveryError", [
                ("cxpulse.notification.channel", delivery.target.channel.encode()),
                ("cxpulse.notification.recipient", delivery.target.recipient.encode()),
                ("cxpulse.notification.attempts", str(delivery.attempt).encode()),
                ("cxpulse.notification.alert_id", delivery.notice.alert_id.encode())], counted=True)

    def state(self, key: str, value: bytes | None) -> None:
        """A changelog record that no input waits for (retry start, rate-limit bucket): losing the last one in a
        crash costs a slightly longer retry budget or a slightly fuller bucket, never a delivery."""
        self._produce(self.changelog_topic, key.encode(), value, [], None)

    def deadletter(self, source: Source, reason: str, detail: str, error_class: str,
                   extra: list[tuple[str, bytes]] | None = None, counted: bool = False) -> None:
        """The input's original bytes and key with the reason in headers. Unless `counted`, this record is the
        one output its input's entry waits for."""
        metrics.DEADLETTERS.labels(metrics.SERVICE, reason).inc()
        headers = deadletter_headers(Reject(reason, detail[:1000], error_class), metrics.SERVICE, source.topic,
                                     source.partition, source.offset, source.headers) + (extra or [])
        if not counted:
            log.warning("input dead-lettered", extra={"reason": reason, "detail": detail[:300],
                                                      "topic": source.topic, "offset": source.offset})
        self._produce(self.deadletter_topic, source.key, source.value, headers, source.entry)

    def _produce(self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]],
                 entry: list[int] | None) -> None:
        def delivered(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                metrics.PRODUCE_ERRORS.labels(metrics.SERVICE).inc()
                self.error = f"delivery to {topic} failed: {error}"
                return
            metrics.MESSAGES_OUT.labels(metrics.SERVICE, topic).inc()
            if entry is not None:
                OffsetTracker.ack(entry)

        while True:
            try:
                self.producer.produce(topic, value, key, headers=headers, on_delivery=delivered)
                return
            except BufferError:  # local queue full: let deliveries drain, then retry
                self.producer.poll(0.1)

    def poll(self) -> None:
        self.producer.poll(0)

    def flush(self, timeout_s: float = 30.0) -> None:
        remaining = self.producer.flush(timeout_s)
        if remaining:
            raise RuntimeError(f"{remaining} records still unacknowledged after {timeout_s} s")

    def raise_if_failed(self) -> None:
        if self.error:
            raise RuntimeError(self.error)  # offsets of the affected inputs were never stored
