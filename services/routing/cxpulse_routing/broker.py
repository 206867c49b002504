"""The partition count of an existing topic: tables' changelogs must be co-partitioned with their source."""

from __future__ import annotations

from cxpulse_core.changelog import topic_partitions
from cxpulse_core.settings import KafkaSettings


def partitions_of(kafka: KafkaSettings, topic: str, timeout_s: float = 15.0) -> int:
    return len(topic_partitions(kafka, topic, timeout_s))
