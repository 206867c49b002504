"""The partition count of an existing topic: tables' changelogs must be co-partitioned with their source."""

from __future__ import annotations

from confluent_kafka.admin import AdminClient

from cxpulse_core.settings import KafkaSettings


def partitions_of(kafka: KafkaSettings, topic: str, timeout_s: float = 15.0) -> int:
    metadata = AdminClient(kafka.client_config()).list_topics(topic, timeout=timeout_s)
    found = metadata.topics.get(topic)
    if found is None or found.error is not None or not found.partitions:
        raise RuntimeError(f"topic {topic!r} does not exist or has no partitions (create it: cxpulse topics create)")
    return len(found.partitions)
