"""The routing service as a process for the integration tests: fresh topics for each of its roles and the settings
that point it at them (its own faust app id, so its changelogs are its own too)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cxpulse_core.settings import KafkaSettings
from cxpulse_core.testing.kafka import unique_name


def routing_topics_and_env(kafka: KafkaSettings, new_topic: Callable[..., str], work: Path,
                           **settings: Any) -> tuple[dict[str, str], dict[str, str]]:
    """({role: topic}, environment for ServiceProcess("cxpulse_routing", ...)); `settings` add ROUTING_<NAME>."""
    topics = {"contacts": new_topic("contacts", partitions=3), "utterances": new_topic("utterances", partitions=3),
              "churn": new_topic("churn", compact=True), "escalations": new_topic("escalations"),
              "alerts": new_topic("alerts"), "guidance": new_topic("guidance"), "deadletter": new_topic("dlq")}
    env = {f"ROUTING_{role.upper()}_TOPIC": name for role, name in topics.items()} | {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers, "ROUTING_APP_ID": unique_name("routing"),
        "ROUTING_DATA_DIR": str(work / "faust"), "CXPULSE_LOG_LEVEL": "WARNING"} | {
        f"ROUTING_{name.upper()}": str(value) for name, value in settings.items()}
    return topics, env
