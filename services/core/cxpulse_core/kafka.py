"""Kafka clients with the settings every cxpulse service shares."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer

from .settings import KafkaSettings

log = logging.getLogger(__name__)
_LIBRDKAFKA_LOG = logging.getLogger("librdkafka")  # client logs as structured lines, not raw stderr


def _error_callback(on_fatal: Callable[[str], None] | None) -> Callable[[KafkaError], None]:
    def callback(error: KafkaError) -> None:
        if error.fatal():
            log.error("fatal Kafka client error", extra={"error": str(error)})
            if on_fatal:
                on_fatal(str(error))
        else:  # transient: librdkafka retries by itself
            log.warning("Kafka client error", extra={"error": str(error)})
    return callback


def make_producer(kafka: KafkaSettings, on_fatal: Callable[[str], None] | None = None,
                  **overrides: Any) -> Producer:
    tunable = {
        "linger.ms": 2,  # small: alerts are latency-sensitive; batching still happens under load
        "compression.type": "lz4",  # faust (aiokafka) reads it through cramjam, pinned too
    }
    required = {
        "enable.idempotence": True,  # implies acks=all; retries cannot reorder or duplicate
        "acks": "all",
        "logger": _LIBRDKAFKA_LOG,
        # Java's partitioner (murmur2), so keys land where Java clients, Kafka Streams and faust put them.
        "partitioner": "murmur2_random",
        "error_cb": _error_callback(on_fatal),
    }
    return Producer(_config(kafka, tunable, required) | overrides)


def make_consumer(kafka: KafkaSettings, group_id: str, on_fatal: Callable[[str], None] | None = None,
                  **overrides: Any) -> Consumer:
    tunable = {
        "auto.commit.interval.ms": 1000,
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": "cooperative-sticky",
        "max.poll.interval.ms": 300000,
        "session.timeout.ms": 10000,  # a dead replica's partitions move on after 10 s, not the default 45 s
    }
    required = {
        "group.id": group_id,
        "enable.auto.commit": True,  # commits only what we stored ...
        "enable.auto.offset.store": False,  # ... and we store an offset only after its outputs are acked
        "logger": _LIBRDKAFKA_LOG,
        "error_cb": _error_callback(on_fatal),
    }
    return Consumer(_config(kafka, tunable, required) | overrides)


def _config(kafka: KafkaSettings, tunable: dict[str, Any], required: dict[str, Any]) -> dict[str, Any]:
    """Connection settings, then our defaults, which passed-through properties (KAFKA_CONFIG__*) may change, then
    what the delivery guarantees rest on, which they may not (a warning says so)."""
    passthrough = kafka.passthrough()
    for key in passthrough.keys() & required.keys():
        log.warning("ignoring a passed-through Kafka property cxpulse relies on", extra={"property": key})
    return kafka.client_config(passthrough=False) | tunable | passthrough | required
