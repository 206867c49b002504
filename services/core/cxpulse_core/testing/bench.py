"""Helpers for benchmarks that run a service through a real broker."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, TopicPartition

from ..settings import KafkaSettings


def topic_size(kafka: KafkaSettings, topic: str, consumer: Consumer | None = None) -> int:
    """Records in a topic (sum of high watermarks; topics here start empty)."""
    own = consumer is None
    consumer = consumer or Consumer(kafka.client_config() | {"group.id": "cxpulse-bench-size"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions)
    finally:
        if own:
            consumer.close()


def wait_for_size(kafka: KafkaSettings, topic: str, expected: int, timeout_s: float = 300.0,
                  poll_s: float = 0.05) -> tuple[float, float]:
    """Waits until `topic` holds `expected` records; returns (time of the first record, time of the last),
    as time.perf_counter() readings (to poll_s resolution)."""
    consumer = Consumer(kafka.client_config() | {"group.id": "cxpulse-bench-size"})
    first = None
    deadline = time.perf_counter() + timeout_s
    try:
        while time.perf_counter() < deadline:
            size = topic_size(kafka, topic, consumer)
            now = time.perf_counter()
            if size and first is None:
                first = now
            if size >= expected:
                return first or now, now
            time.sleep(poll_s)
    finally:
        consumer.close()
    raise TimeoutError(f"{topic} did not reach {expected} records in {timeout_s}s")
