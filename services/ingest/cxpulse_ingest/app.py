"""Wiring of the ingest service: both raw topics in, cx.interactions out, rejections to its dead-letter topic."""

from __future__ import annotations

from cxpulse_core import topics
from cxpulse_core.loop import LoopConfig
from cxpulse_core.runner import run_stream_service
from cxpulse_core.serde import make_serde
from cxpulse_core.settings import KafkaSettings, RuntimeSettings

from .ingestor import Ingestor
from .service import IngestHandler
from .settings import IngestSettings

SERVICE = "ingest"


def build(settings: IngestSettings, runtime: RuntimeSettings) -> tuple[LoopConfig, IngestHandler]:
    sources = {runtime.topic(topics.RAW_EVENTS): "cxpulse", runtime.topic(topics.RAW_CONTACT_LENS): "contact-lens"}
    config = LoopConfig(service=SERVICE, group_id=settings.group_id, topics=list(sources),
                        deadletter_topic=runtime.topic(topics.deadletter(SERVICE)), decode=False, max_batch=1000)
    handler = IngestHandler(Ingestor(settings.rules()), sources, runtime.topic(topics.INTERACTIONS), make_serde())
    return config, handler


def run() -> int:
    kafka, runtime = KafkaSettings(), RuntimeSettings()
    config, handler = build(IngestSettings(), runtime)
    return run_stream_service(config, handler, kafka, runtime)
