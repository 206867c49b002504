"""State kept beside a stream: a compacted changelog topic written in the same Kafka transaction as the outputs
and the input offsets, and read back for the partitions a service is assigned. State restored this way matches
the committed input position exactly, so a restart neither loses nor double counts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient

from .settings import KafkaSettings


class MissingTopicError(RuntimeError):
    """A topic the service reads at start (a changelog, a progress or dead-letter topic) does not exist."""


def topic_partitions(kafka: KafkaSettings, topic: str, timeout_s: float = 15.0) -> list[int]:
    """The partition ids of an existing topic; a MissingTopicError naming it (and how to create it) otherwise."""
    found = AdminClient(kafka.client_config()).list_topics(topic, timeout=timeout_s).topics.get(topic)
    if found is None or found.error is not None or not found.partitions:
        reason = found.error if found is not None and found.error is not None else "no partitions"
        raise MissingTopicError(f"topic {topic} is missing ({reason}): create it (make topics / cxpulse topics create)")
    return sorted(found.partitions)


def encode_state(value: dict[str, Any] | None) -> bytes | None:
    """Changelog values are compact JSON (internal to one service, never read by another); None is a tombstone."""
    return None if value is None else json.dumps(value, separators=(",", ":")).encode()


def read_to_end(kafka: KafkaSettings, topic: str, partitions: list[int], timeout_s: float = 120.0) -> Iterator[Message]:
    """Every committed record of `topic`'s `partitions`, from the beginning to the end as of the call."""
    if not partitions:
        return
    consumer = Consumer(kafka.client_config() | {
        "group.id": "cxpulse-changelog-restore", "enable.auto.commit": False,
        "isolation.level": "read_committed", "enable.partition.eof": True,
    })
    try:
        ends = {}
        for p in partitions:
            low, high = _watermarks(consumer, TopicPartition(topic, p))
            if high > low:
                ends[p] = high
        if not ends:
            return
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        deadline = time.monotonic() + timeout_s
        while ends:
            if time.monotonic() > deadline:
                raise TimeoutError(f"restoring {topic} partitions {sorted(ends)} took over {timeout_s}s")
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                yield message
            # Transaction markers take offsets but are never delivered: compare positions, not last offsets.
            for tp in consumer.position([TopicPartition(topic, p) for p in list(ends)]):
                if tp.offset >= ends[tp.partition]:
                    del ends[tp.partition]
    finally:
        consumer.close()


_SETTLING = (KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError.UNKNOWN_TOPIC_OR_PART)


def _watermarks(consumer: Consumer, tp: TopicPartition, timeout_s: float = 30.0) -> tuple[int, int]:
    """A partition's (low, high) offsets, retried while its leadership settles (just after the topic was created
    or a broker restarted)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return consumer.get_watermark_offsets(tp, timeout=timeout_s)
        except KafkaException as exc:
            if exc.args[0].code() not in _SETTLING or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
