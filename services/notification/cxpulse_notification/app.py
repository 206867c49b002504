"""The notification service: settings, the routing file, channel clients, the delivery state, core's stream loop
(at-least-once: an input's offset is stored once every delivery it caused is final).

options:
  --routes FILE   the routing file (default: NOTIFICATION_ROUTES_FILE or the shipped example)
  --check         validate the routing file and the settings, then exit"""

from __future__ import annotations

import argparse
import logging
import sys

from cxpulse_core.health import Health
from cxpulse_core.loop import LoopConfig, StreamLoop
from cxpulse_core.runner import make_loop, run_service
from cxpulse_core.settings import KafkaSettings, RuntimeSettings
from cxpulse_core.state import check_changelog

from .email import EmailClient
from .handler import NotificationHandler
from .routes import Router, RoutesError, load_router
from .settings import NotificationSettings
from .state import delivery_store
from .webhook import WebhookClient

log = logging.getLogger(__name__)
SERVICE = "notification"


def handler(settings: NotificationSettings, kafka: KafkaSettings, runtime: RuntimeSettings,
            router: Router) -> tuple[LoopConfig, NotificationHandler]:
    delivered = runtime.topic(settings.delivered_topic)
    inputs = [runtime.topic(settings.alerts_topic), runtime.topic(settings.escalations_topic)]
    check_changelog(kafka, delivered, inputs)
    config = LoopConfig(service=SERVICE, group_id=settings.group_id, topics=inputs,
                        deadletter_topic=runtime.topic(settings.deadletter_topic),
                        consumer_config={"session.timeout.ms": settings.session_timeout_ms})
    webhook = WebhookClient(settings.http_timeout_s, settings.dashboard_url)
    senders = {"webhook": webhook, "slack": webhook, "email": EmailClient(settings)}
    return config, NotificationHandler(settings, config, runtime.topic(settings.log_topic), router, senders,
                                       delivery_store(delivered, kafka))


def build(settings: NotificationSettings, kafka: KafkaSettings, runtime: RuntimeSettings, router: Router,
          health: Health) -> StreamLoop:
    """The service's loop, not yet running (for running it in a thread of a test)."""
    config, notification = handler(settings, kafka, runtime, router)
    return make_loop(config, notification, kafka, runtime, health)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cxpulse run notification", description="Deliver supervisor alerts.")
    parser.add_argument("--routes", help="routing file (default: NOTIFICATION_ROUTES_FILE or the example)")
    parser.add_argument("--check", action="store_true", help="validate the routing file and settings, then exit")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    settings = NotificationSettings(**({"routes_file": args.routes} if args.routes else {}))
    try:
        router = load_router(settings.routes_file)
    except RoutesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    targets = sum(len(t) for t in router.targets.values())
    if args.check:
        print(f"{settings.routes_file}: OK ({len(router.spec.routes)} routes, {targets} targets)")
        return 0

    def build_handler(kafka: KafkaSettings, runtime: RuntimeSettings) -> tuple[LoopConfig, NotificationHandler]:
        log.info("routing file loaded", extra={"routes_file": str(settings.routes_file), "targets": targets})
        return handler(settings, kafka, runtime, router)

    # SIGTERM: finish running attempts, flush, commit (bounded by CXPULSE_SHUTDOWN_TIMEOUT_S)
    return run_service(SERVICE, build_handler)
