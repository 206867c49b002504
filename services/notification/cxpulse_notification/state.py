"""The changelog of final outcomes (compacted topic, key "<alert id>/<channel>/<recipient>"): written with every
final outcome, read back at each partition assignment, so an alert read again after a restart or a rebalance
is not delivered (nor dead-lettered) twice."""

from __future__ import annotations

import json
import logging

from confluent_kafka import Consumer

from cxpulse_core.changelog import encode_state, read_to_end
from cxpulse_core.settings import KafkaSettings

from .limits import Outcomes

log = logging.getLogger(__name__)


def outcome_record(outcome: str, time_ms: int) -> bytes:
    return encode_state({"outcome": outcome, "time": time_ms}) or b""


def changelog_partitions(consumer: Consumer, topic: str) -> list[int]:
    metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
    if metadata is None or metadata.error is not None:
        raise RuntimeError(f"changelog topic {topic} is missing ({metadata.error if metadata else 'no metadata'}): "
                           "create it with cleanup.policy=compact (make topics)")
    return sorted(metadata.partitions)


def restore(kafka: KafkaSettings, topic: str, partitions: list[int], outcomes: Outcomes) -> int:
    """Loads every final outcome of the changelog into `outcomes`; returns how many records it read."""
    count = 0
    for message in read_to_end(kafka, topic, partitions):
        key = (message.key() or b"").decode()
        count += 1
        if message.value() is None:
            outcomes.final.pop(key, None)
            continue
        try:
            value = json.loads(message.value())
            outcomes.final[key] = (str(value["outcome"]), int(value["time"]))
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable changelog record skipped", extra={"key": key, "offset": message.offset()})
    return count
