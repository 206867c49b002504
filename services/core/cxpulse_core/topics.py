"""The topic table (schemas/topics.yaml) as data, and idempotent topic creation from it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from .schemas import schema_dir
from .settings import KafkaSettings

RAW_EVENTS = "cx.raw.contact-events"
RAW_CONTACT_LENS = "cx.raw.contact-lens"
INTERACTIONS = "cx.interactions"
UTTERANCE_SENTIMENT = "cx.sentiment.utterances"
CONTACT_SENTIMENT = "cx.sentiment.contacts"
CHURN_RISK = "cx.churn.risk"
ESCALATIONS = "cx.routing.escalations"
GUIDANCE = "cx.agent.guidance"
ALERTS = "cx.alerts"
NOTIFICATION_LOG = "cx.notifications.log"
FEEDBACK_LABELS = "cx.feedback.labels"
SENTIMENT_STATE = "cx.sentiment.contact-state"
INGEST_STATE = "cx.ingest.contact-state"
NOTIFICATION_DELIVERED = "cx.notification.delivered"


def deadletter(service: str) -> str:
    return f"cx.deadletter.{service}"


COMPACTED_SEGMENT_MS = 3_600_000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str
    value_schemas: tuple[str, ...]
    doc: str
    partitions: int
    replication_factor: int
    retention_ms: int
    cleanup_policy: str = "delete"
    producers: tuple[str, ...] = field(default=())
    consumers: tuple[str, ...] = field(default=())

    def config(self) -> dict[str, str]:
        config = {"cleanup.policy": self.cleanup_policy}
        if "delete" in self.cleanup_policy:
            config["retention.ms"] = str(self.retention_ms)
        if "compact" in self.cleanup_policy:
            # The log cleaner never compacts the active segment, which the broker rolls weekly by default: a state
            # changelog would then hold a week of updates, every one of them read again by a restore (a restart
            # is ready only after it). Hourly segments bound that to about an hour's updates plus the live keys.
            config["segment.ms"] = str(COMPACTED_SEGMENT_MS)
        return config


def load_topics(path: Path | None = None) -> list[TopicSpec]:
    table = yaml.safe_load((path or schema_dir() / "topics.yaml").read_text())
    defaults = table.get("defaults", {})
    specs = []
    for row in table["topics"]:
        merged = {**defaults, **row}
        specs.append(TopicSpec(
            name=merged["name"], key=merged["key"], value_schemas=tuple(merged["value_schemas"]),
            doc=merged.get("doc", ""), partitions=int(merged["partitions"]),
            replication_factor=int(merged["replication_factor"]), retention_ms=int(merged["retention_ms"]),
            cleanup_policy=merged.get("cleanup_policy", "delete"),
            producers=tuple(merged.get("producers", ())), consumers=tuple(merged.get("consumers", ())),
        ))
    return specs


@cache
def topic_table() -> dict[str, TopicSpec]:
    return {spec.name: spec for spec in load_topics()}


def create_topics(kafka: KafkaSettings, specs: list[TopicSpec], prefix: str = "",
                  replication_factor: int | None = None, timeout_s: float = 30.0) -> dict[str, str]:
    """Create the topics that do not exist yet; returns name -> "created" | "exists". Raises on other errors."""
    admin = AdminClient(kafka.client_config())
    new = [NewTopic(prefix + s.name, num_partitions=s.partitions,
                    replication_factor=replication_factor or s.replication_factor, config=s.config()) for s in specs]
    results: dict[str, str] = {}
    for name, future in admin.create_topics(new, operation_timeout=timeout_s, request_timeout=timeout_s).items():
        try:
            future.result()
            results[name] = "created"
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
            results[name] = "exists"
    _wait_visible(admin, [n for n, how in results.items() if how == "created"], timeout_s)
    return results


def _wait_visible(admin: AdminClient, names: list[str], timeout_s: float) -> None:
    """Until every partition of `names` has a leader in the broker's metadata. CreateTopics answers once the
    controller has the topic, a moment before the brokers serve it: a service started right after `topics create`
    would otherwise find its changelog "missing" (UNKNOWN_TOPIC_OR_PART) and exit."""
    deadline = time.monotonic() + timeout_s
    waiting = set(names)
    while waiting:
        topics = admin.list_topics(timeout=max(1.0, deadline - time.monotonic())).topics
        waiting = {n for n in waiting if n not in topics or topics[n].error is not None or not topics[n].partitions
                   or any(p.leader < 0 for p in topics[n].partitions.values())}
        if waiting and time.monotonic() > deadline:
            raise TimeoutError(f"created topics not served after {timeout_s}s: {sorted(waiting)[:5]}")
        if waiting:
            time.sleep(0.1)
