"""Produce and consume helpers for tests against a real broker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from confluent_kafka import Consumer, Message, Producer, TopicPartition

from ..settings import KafkaSettings


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def produce(kafka: KafkaSettings, topic: str, records: Iterable[tuple[str | None, bytes]],
            headers: list[tuple[str, bytes]] | None = None) -> int:
    producer = Producer(kafka.client_config() | {"enable.idempotence": True, "linger.ms": 0})
    count = 0
    for key, value in records:
        producer.produce(topic, value, key.encode() if key is not None else None, headers=headers)
        producer.poll(0)
        count += 1
    assert producer.flush(30) == 0, "test records not acknowledged"
    return count


def consume(kafka: KafkaSettings, topic: str, expected: int, timeout_s: float = 30.0,
            settle_s: float = 0.0) -> list[Message]:
    """Reads `topic` from the beginning until `expected` records arrived (then waits `settle_s` more to catch
    any extra, e.g. duplicates) or the timeout passed; returns what it read."""
    consumer = Consumer(kafka.client_config() | {"group.id": unique_name("test-reader"),
                                                 "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    out: list[Message] = []
    deadline = time.monotonic() + timeout_s
    settle_until: float | None = None
    try:
        while time.monotonic() < deadline and (settle_until is None or time.monotonic() < settle_until):
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                out.append(message)
            if settle_until is None and len(out) >= expected:
                settle_until = time.monotonic() + settle_s
    finally:
        consumer.close()
    return out


def headers_of(message: Message) -> dict[str, str]:
    return {k: (v or b"").decode() for k, v in message.headers() or []}


def values(messages: list[Message], serde: Any) -> list[dict[str, Any]]:
    return [serde.decode(m.value(), m.topic()).value for m in messages]


def committed(kafka: KafkaSettings, group: str, topic: str) -> int:
    """The sum over `topic`'s partitions of `group`'s committed offsets (0 where none): what a restarted member of
    the group would not read again. Asks without joining the group, so the group's members are not disturbed."""
    consumer = Consumer(kafka.client_config() | {"group.id": group, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        offsets = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        return sum(max(tp.offset, 0) for tp in offsets)
    finally:
        consumer.close()
