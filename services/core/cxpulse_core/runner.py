"""Builds and runs a confluent-kafka stream service: settings, logs, ops endpoint, clients, loop."""

from __future__ import annotations

import logging
import signal
from http.server import ThreadingHTTPServer
from typing import Protocol

from .brokerwatch import watch_broker
from .dlq import DeadLetterLimitError, InvalidRatioLimit
from .health import Health
from .http import serve
from .kafka import make_consumer, make_producer
from .logs import configure_logging
from .loop import Handler, LoopConfig, StreamLoop
from .serde import make_serde
from .settings import KafkaSettings, RuntimeSettings, SchemaRegistrySettings

log = logging.getLogger(__name__)


def run_stream_service(config: LoopConfig, handler: Handler,
                       kafka: KafkaSettings | None = None, runtime: RuntimeSettings | None = None) -> int:
    """Runs until SIGTERM/SIGINT (exit 0) or a fatal error (exit 1, logged)."""
    runtime = runtime or RuntimeSettings()
    kafka = (kafka or KafkaSettings()).for_client(config.service, runtime.instance_id)
    configure_logging(config.service, runtime.log_level)
    health = Health(runtime.liveness_timeout_s)

    def fatal(error: str) -> None:
        health.fatal = error

    server = serve(health, runtime.http_host, runtime.http_port)
    watch_broker(kafka, health, config.service)
    producer_extra, consumer_extra = {}, {}
    if config.transactional:
        producer_extra = {"transactional.id": f"{config.group_id}-{runtime.instance_id}",
                          "transaction.timeout.ms": 15000}
        consumer_extra = {"enable.auto.commit": False}
    loop = StreamLoop(
        config,
        make_consumer(kafka, config.group_id, on_fatal=fatal, **consumer_extra),
        make_producer(kafka, on_fatal=fatal, **producer_extra),
        make_serde(SchemaRegistrySettings()),
        handler,
        health,
        InvalidRatioLimit(runtime.dlq_max_invalid_ratio, runtime.dlq_window, runtime.dlq_min_messages,
                          config.service, runtime.dlq_stop_on_flood),
    )
    log.info("started", extra={"topics": list(config.topics), "group": config.group_id,
                               "bootstrap": kafka.bootstrap_servers, "http_port": server.server_port})
    return run_until_stopped(loop, server)


class Stoppable(Protocol):
    def run(self) -> None: ...
    def stop(self, *_: object) -> None: ...


def run_until_stopped(loop: Stoppable, server: ThreadingHTTPServer) -> int:
    """Runs a service loop until SIGTERM/SIGINT (graceful: it finishes its work, flushes, commits; exit 0) or a
    fatal error (logged, exit 1); the ops endpoint stops with it."""
    signal.signal(signal.SIGTERM, loop.stop)
    signal.signal(signal.SIGINT, loop.stop)
    try:
        loop.run()
    except DeadLetterLimitError as exc:
        log.error("dead-letter limit exceeded", extra={"error": str(exc)})
        return 1
    except Exception:
        log.exception("fatal error")
        return 1
    finally:
        server.shutdown()
    log.info("stopped")
    return 0
