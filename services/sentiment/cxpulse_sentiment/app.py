"""Wiring of the sentiment service: model, topics, state restore, stream loop (exactly-once)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cxpulse_core import topics
from cxpulse_core.changelog import read_to_end
from cxpulse_core.loop import LoopConfig
from cxpulse_core.runner import run_stream_service
from cxpulse_core.settings import KafkaSettings, RuntimeSettings

from .service import SentimentHandler
from .settings import SentimentSettings

log = logging.getLogger(__name__)
SERVICE = "sentiment"


def build(settings: SentimentSettings, kafka: KafkaSettings, runtime: RuntimeSettings) -> tuple[LoopConfig,
                                                                                                 SentimentHandler]:
    from .model import SentimentModel  # imported here: loading the model is the slow part of start-up

    model = SentimentModel.load(Path(settings.model_dir) if settings.model_dir else None,
                                cache_size=settings.cache_size)
    names = {"utterances": runtime.topic(topics.UTTERANCE_SENTIMENT),
             "contacts": runtime.topic(topics.CONTACT_SENTIMENT), "state": runtime.topic(topics.SENTIMENT_STATE)}

    def restore(partitions: list[int]) -> Iterator[tuple[str, dict[str, Any] | None, int]]:
        import json

        count = 0
        for message in read_to_end(kafka, names["state"], partitions):
            count += 1
            yield message.key().decode(), json.loads(message.value()) if message.value() else None, message.partition()
        log.info("contact state restored", extra={"partitions": partitions, "records": count})

    config = LoopConfig(service=SERVICE, group_id=settings.group_id, topics=[runtime.topic(topics.INTERACTIONS)],
                        deadletter_topic=runtime.topic(topics.deadletter(SERVICE)), max_batch=settings.max_batch,
                        max_wait_ms=settings.max_wait_ms, transactional=True)
    log.info("model loaded", extra={"model_version": model.version})
    return config, SentimentHandler(model, names, restore, ttl_ms=int(settings.contact_ttl_s * 1000))


def run() -> int:
    kafka, runtime = KafkaSettings(), RuntimeSettings()
    from cxpulse_core.logs import configure_logging

    configure_logging(SERVICE, runtime.log_level)
    config, handler = build(SentimentSettings(), kafka, runtime)
    return run_stream_service(config, handler, kafka, runtime)
