"""Wiring of the ingest service: both raw topics in, cx.interactions out, rejections to its dead-letter topic, its
per-contact state in the changelog cx.ingest.contact-state (exactly-once: outputs, state and input offsets in one
transaction per batch)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from cxpulse_core import topics
from cxpulse_core.changelog import read_to_end
from cxpulse_core.loop import LoopConfig
from cxpulse_core.runner import run_service
from cxpulse_core.serde import make_serde
from cxpulse_core.settings import KafkaSettings, RuntimeSettings

from .handler import IngestHandler
from .ingestor import Ingestor
from .settings import IngestSettings

log = logging.getLogger(__name__)
SERVICE = "ingest"


def build(settings: IngestSettings, runtime: RuntimeSettings,
          kafka: KafkaSettings | None = None) -> tuple[LoopConfig, IngestHandler]:
    """`kafka`: where to restore the state from at partition assignment (None only in tests that start empty)."""
    sources = {runtime.topic(topics.RAW_EVENTS): "cxpulse", runtime.topic(topics.RAW_CONTACT_LENS): "contact-lens"}
    state_topic = runtime.topic(topics.INGEST_STATE)
    config = LoopConfig(service=SERVICE, group_id=settings.group_id, topics=list(sources),
                        deadletter_topic=runtime.topic(topics.deadletter(SERVICE)), decode=False, max_batch=1000,
                        transactional=True)

    def restore(partitions: list[int]) -> Iterator[tuple[int, str, dict[str, Any] | None]]:
        assert kafka is not None
        for message in read_to_end(kafka, state_topic, partitions):
            yield message.partition(), message.key().decode(), json.loads(message.value()) if message.value() else None

    handler = IngestHandler(Ingestor(settings.rules()), sources, runtime.topic(topics.INTERACTIONS), make_serde(),
                            state_topic=state_topic, restore=restore if kafka is not None else None)
    return config, handler


def main(argv: list[str] | None = None) -> int:
    settings = IngestSettings()  # read before anything starts: a bad setting is reported as one clear line
    return run_service(SERVICE, lambda kafka, runtime: build(settings, runtime, kafka))
