"""Wiring of the insights service: the shared stream loop (main thread; core's ops endpoint /metrics /healthz
/readyz on CXPULSE_HTTP_PORT) reads the six input topics into the in-memory views and writes quality scores
and agent figures; the dashboard and API (web.py) run beside it on INSIGHTS_WEB_PORT."""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass

from cxpulse_core.changelog import read_to_end, topic_partitions
from cxpulse_core.kafka import batched_fetches
from cxpulse_core.loop import LoopConfig
from cxpulse_core.runner import run_service
from cxpulse_core.serde import make_serde
from cxpulse_core.settings import KafkaSettings, RuntimeSettings
from cxpulse_core.startup import EXIT_CONFIG

from .auth import Auth, AuthConfigError, AuthSettings
from .corrections import CorrectionSink
from .handler import InsightsHandler, OutputTopics
from .metrics import SERVICE
from .settings import InsightsSettings
from .state import InsightsState
from .web import WebServer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Insights:
    config: LoopConfig
    handler: InsightsHandler
    state: InsightsState

    feedback_topic: str

    def web(self, settings: InsightsSettings, kafka: KafkaSettings | None = None, auth: Auth | None = None
            ) -> WebServer:
        """The dashboard; with `kafka`, supervisors' label corrections are produced to cx.feedback.labels;
        with `auth`, every path but /healthz needs credentials (auth.py)."""
        sink = None if kafka is None else CorrectionSink(kafka, self.feedback_topic, make_serde())
        return WebServer(self.state, settings.web_host, settings.web_port, settings.sse_coalesce_s, sink, auth)


def written_boundary(kafka: KafkaSettings, topic: str) -> dict[tuple[str, int], int]:
    """(input topic, partition) -> the last input offset whose outputs a previous run wrote (committed)."""
    partitions = topic_partitions(kafka, topic)
    boundary: dict[tuple[str, int], int] = {}
    for message in read_to_end(kafka, topic, partitions):
        source, _, partition = (message.key() or b"").decode().rpartition(":")
        if message.value() is not None and source:
            boundary[(source, int(partition))] = int(json.loads(message.value())["offset"])
    return boundary


def build(settings: InsightsSettings, runtime: RuntimeSettings, kafka: KafkaSettings | None = None) -> Insights:
    """`kafka`: where to read what a previous run wrote (cx.insights.progress) so that the replay writes nothing
    twice; None only in tests that start on fresh topics."""
    name = runtime.topic
    inputs = [name(t) for t in (settings.contacts_topic, settings.utterances_topic, settings.escalations_topic,
                                settings.alerts_topic, settings.churn_topic, settings.guidance_topic)]
    # Every replica needs every partition (the dashboard shows everything), hence a group of its own; a fresh
    # one per start reads from the earliest record, which rebuilds the in-memory views.
    group = settings.group_id
    if settings.replay_on_start:
        group = f"{group}-{runtime.instance_id}-{int(time.time() * 1000)}"
    # The writer commits its outputs and its progress in one transaction per batch (extra replicas write nothing).
    config = LoopConfig(service=SERVICE, group_id=group, topics=inputs,
                        deadletter_topic=name(settings.deadletter_topic), decode=False, max_batch=500,
                        max_wait_ms=settings.batch_wait_ms, consumer_config=batched_fetches(settings.batch_wait_ms),
                        transactional=settings.produce_outputs)
    state = InsightsState(settings)
    outputs = OutputTopics(name(settings.quality_topic), name(settings.agents_topic), name(settings.churn_topic),
                           settings.produce_outputs, name(settings.progress_topic))
    boundary = {}
    if kafka is not None and settings.produce_outputs and settings.replay_on_start:
        boundary = written_boundary(kafka, name(settings.progress_topic))
        log.info("outputs written up to", extra={"partitions": len(boundary)})
    return Insights(config, InsightsHandler(state, make_serde(), outputs, boundary), state,
                    name(settings.feedback_topic))


def main(argv: list[str] | None = None) -> int:
    settings = InsightsSettings()  # read before anything starts: a bad setting is reported as one clear line
    try:
        auth = Auth.from_settings(AuthSettings())
    except AuthConfigError as exc:  # one clear line too (cxpulse_core.startup's format)
        print(f"cxpulse insights: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    web: WebServer | None = None

    def start(kafka: KafkaSettings, runtime: RuntimeSettings) -> tuple[LoopConfig, InsightsHandler]:
        """After run_service configured logging: the replay boundary, the handler, the dashboard beside the loop."""
        nonlocal web
        insights = build(settings, runtime, kafka)
        web = insights.web(settings, kafka, auth).start()
        return insights.config, insights.handler

    try:
        return run_service(SERVICE, start)
    finally:
        if web is not None:
            web.stop()
