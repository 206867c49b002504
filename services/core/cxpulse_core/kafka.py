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
    config = kafka.client_config() | {
        "enable.idempotence": True,  # implies acks=all; retries cannot reorder or duplicate
        "acks": "all",
        "linger.ms": 2,  # small: alerts are latency-sensitive; batching still happens under load
        "logger": _LIBRDKAFKA_LOG,
        "compression.type": "lz4",  # faust (aiokafka) reads it through cramjam, pinned too
        # Java's partitioner (murmur2), so keys land where Java clients, Kafka Streams and faust put them.
        "partitioner": "murmur2_random",
        "error_cb": _error_callback(on_fatal),
    }
    return Producer(config | overrides)


def make_consumer(kafka: KafkaSettings, group_id: str, on_fatal: Callable[[str], None] | None = None,
                  **overrides: Any) -> Consumer:
    config = kafka.client_config() | {
        "group.id": group_id,
        "enable.auto.commit": True,  # commits only what we stored ...
        "enable.auto.offset.store": False,  # ... and we store an offset only after its outputs are acked
        "auto.commit.interval.ms": 1000,
        "auto.offset.reset": "earliest",
        "logger": _LIBRDKAFKA_LOG,
        "partition.assignment.strategy": "cooperative-sticky",
        "max.poll.interval.ms": 300000,
        "session.timeout.ms": 10000,  # a dead replica's partitions move on after 10 s, not the default 45 s
        "error_cb": _error_callback(on_fatal),
    }
    return Consumer(config | overrides)
