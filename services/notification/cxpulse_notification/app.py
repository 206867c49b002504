"""Wiring: settings, logs, the ops endpoint, Kafka clients, routing file, channel clients, the loop."""

from __future__ import annotations

import argparse
import logging
import sys

from cxpulse_core.brokerwatch import watch_broker
from cxpulse_core.changelog import topic_partitions
from cxpulse_core.health import Health
from cxpulse_core.http import serve
from cxpulse_core.kafka import make_consumer, make_producer
from cxpulse_core.logs import configure_logging
from cxpulse_core.runner import run_until_stopped
from cxpulse_core.serde import make_serde
from cxpulse_core.settings import KafkaSettings, RuntimeSettings, SchemaRegistrySettings

from .email import EmailClient
from .limits import Outcomes, RateLimiter
from .routes import Router, RoutesError, load_router
from .service import NotificationService, Topics
from .settings import NotificationSettings
from .state import restore
from .webhook import WebhookClient

log = logging.getLogger(__name__)
SERVICE = "notification"


def build(settings: NotificationSettings, kafka: KafkaSettings, runtime: RuntimeSettings, router: Router,
          health: Health) -> NotificationService:
    topics = Topics(*(runtime.topic(name) for name in (
        settings.alerts_topic, settings.escalations_topic, settings.log_topic, settings.deadletter_topic,
        settings.delivered_topic)))

    def fatal(error: str) -> None:
        health.fatal = error

    consumer = make_consumer(kafka, settings.group_id, on_fatal=fatal,
                             **{"session.timeout.ms": settings.session_timeout_ms})
    webhook = WebhookClient(settings.http_timeout_s, settings.dashboard_url)
    partitions = topic_partitions(kafka, topics.delivered)  # fails fast when the changelog is missing

    def restore_state(outcomes: Outcomes, limiters: dict[str, RateLimiter]) -> int:
        return restore(kafka, topics.delivered, partitions, outcomes, limiters)

    return NotificationService(settings, topics, consumer, make_producer(kafka, on_fatal=fatal), make_serde(
        SchemaRegistrySettings()), router, {"webhook": webhook, "slack": webhook, "email": EmailClient(settings)},
        health, restore_state)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cxpulse run notification", description="Deliver supervisor alerts.")
    parser.add_argument("--routes", help="routing file (default: NOTIFICATION_ROUTES_FILE or the example)")
    parser.add_argument("--check", action="store_true", help="validate the routing file and settings, then exit")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    settings = NotificationSettings(**({"routes_file": args.routes} if args.routes else {}))
    runtime = RuntimeSettings()
    kafka = KafkaSettings().for_client(SERVICE, runtime.instance_id)
    configure_logging(SERVICE, runtime.log_level)
    try:
        router = load_router(settings.routes_file)
    except RoutesError as exc:
        log.error("invalid routing file", extra={"error": str(exc)})
        print(f"error: {exc}", file=sys.stderr)
        return 2
    targets = sum(len(t) for t in router.targets.values())
    if args.check:
        print(f"{settings.routes_file}: OK ({len(router.spec.routes)} routes, {targets} targets)")
        return 0
    health = Health(runtime.liveness_timeout_s)
    server = serve(health, runtime.http_host, runtime.http_port)
    watch_broker(kafka, health, SERVICE)
    try:
        service = build(settings, kafka, runtime, router, health)
    except Exception:
        log.exception("fatal error")
        server.shutdown()
        return 1
    log.info("started", extra={"topics": [service.topics.alerts, service.topics.escalations],
                               "routes_file": str(settings.routes_file), "targets": targets,
                               "http_port": server.server_port})
    # SIGTERM: finish running attempts, flush, commit (bounded by CXPULSE_SHUTDOWN_TIMEOUT_S)
    return run_until_stopped(service, server, runtime.shutdown_timeout_s)
