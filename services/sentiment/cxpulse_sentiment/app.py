"""The sentiment service: settings, the model, the contact state, the stream loop (exactly-once: outputs, the
state changelog and input offsets in one Kafka transaction)."""

from __future__ import annotations

import logging
from pathlib import Path

from cxpulse_core import topics
from cxpulse_core.loop import LoopConfig
from cxpulse_core.runner import run_service
from cxpulse_core.settings import KafkaSettings, RuntimeSettings
from cxpulse_core.state import check_changelog

from .handler import SentimentHandler, contact_store
from .settings import SentimentSettings

log = logging.getLogger(__name__)
SERVICE = "sentiment"


def build(settings: SentimentSettings, kafka: KafkaSettings, runtime: RuntimeSettings) -> tuple[LoopConfig,
                                                                                                 SentimentHandler]:
    from .model import SentimentModel  # imported here: loading the model is the slow part of start-up

    model = SentimentModel.load(Path(settings.model_dir) if settings.model_dir else None)
    names = {"utterances": runtime.topic(topics.UTTERANCE_SENTIMENT),
             "contacts": runtime.topic(topics.CONTACT_SENTIMENT)}
    state_topic, inputs = runtime.topic(topics.SENTIMENT_STATE), [runtime.topic(topics.INTERACTIONS)]
    check_changelog(kafka, state_topic, inputs)
    contacts = contact_store(state_topic, kafka)
    config = LoopConfig(service=SERVICE, group_id=settings.group_id, topics=inputs,
                        deadletter_topic=runtime.topic(topics.deadletter(SERVICE)), max_batch=settings.max_batch,
                        max_wait_ms=settings.max_wait_ms, transactional=True)
    log.info("model loaded", extra={"model_version": model.version})
    return config, SentimentHandler(model, names, contacts, ttl_ms=int(settings.contact_ttl_s * 1000))


def main(argv: list[str] | None = None) -> int:
    settings = SentimentSettings()  # read before anything starts: a bad setting is reported as one clear line
    return run_service(SERVICE, lambda kafka, runtime: build(settings, kafka, runtime))
