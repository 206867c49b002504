"""Builds and runs a confluent-kafka stream service: settings, logs, ops endpoint, clients, loop."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Protocol

from confluent_kafka import KafkaException
from pydantic import ValidationError

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


# Errors of a bad setting (a value the client or a settings class refuses): left to exit_on_bad_settings.
BAD_SETTINGS = (ValidationError, KafkaException, ValueError)
Build = Callable[[KafkaSettings, RuntimeSettings], tuple[LoopConfig, Handler]]


def run_service(service: str, build: Build, kafka: KafkaSettings | None = None,
                runtime: RuntimeSettings | None = None) -> int:
    """The one start of a core-loop service: logs configured (once, here), then `build` (settings, model, clients:
    what it logs is already structured), then the loop with the runtime guarantees (dead-letter ratio limit,
    produced_time stamping, metrics, health, bounded graceful stop). Runs until SIGTERM/SIGINT (exit 0) or a fatal
    error (exit 1, logged)."""
    runtime = runtime or RuntimeSettings()
    kafka = kafka or KafkaSettings()
    configure_logging(service, runtime.log_level)
    try:
        config, handler = build(kafka, runtime)
    except BAD_SETTINGS:
        raise  # one clear line and exit 2 (cxpulse_core.startup.exit_on_bad_settings)
    except Exception:
        log.exception("fatal error")
        return 1
    return _run_loop(config, handler, kafka, runtime)


def _run_loop(config: LoopConfig, handler: Handler, kafka: KafkaSettings, runtime: RuntimeSettings) -> int:
    health = Health(runtime.liveness_timeout_s)
    server = serve(health, runtime.http_host, runtime.http_port)
    try:
        loop = make_loop(config, handler, kafka, runtime, health)
    except BAD_SETTINGS:
        server.shutdown()
        raise
    except Exception:
        log.exception("fatal error")
        server.shutdown()
        return 1
    log.info("started", extra={"topics": list(config.topics), "group": config.group_id,
                               "bootstrap": kafka.bootstrap_servers, "http_port": server.server_port})
    return run_until_stopped(loop, server, runtime.shutdown_timeout_s)


def make_loop(config: LoopConfig, handler: Handler, kafka: KafkaSettings, runtime: RuntimeSettings,
              health: Health) -> StreamLoop:
    """The stream loop with its clients, the broker watch and the dead-letter ratio limit (not yet running)."""
    kafka = kafka.for_client(config.service, runtime.instance_id)

    def fatal(error: str) -> None:
        health.fatal = error

    watch_broker(kafka, health, config.service)
    producer_extra, consumer_extra = {}, dict(config.consumer_config)
    if config.transactional:
        producer_extra = {"transactional.id": f"{config.group_id}-{runtime.instance_id}",
                          "transaction.timeout.ms": 15000}
        consumer_extra["enable.auto.commit"] = False
    return StreamLoop(
        config,
        make_consumer(kafka, config.group_id, on_fatal=fatal, **consumer_extra),
        make_producer(kafka, on_fatal=fatal, **producer_extra),
        make_serde(SchemaRegistrySettings()),
        handler,
        health,
        InvalidRatioLimit(runtime.dlq_max_invalid_ratio, runtime.dlq_window, runtime.dlq_min_messages,
                          config.service, runtime.dlq_stop_on_flood),
    )


class Stoppable(Protocol):
    def run(self) -> None: ...
    def stop(self, *_: object) -> None: ...


def run_until_stopped(loop: Stoppable, server: ThreadingHTTPServer, shutdown_timeout_s: float = 25.0) -> int:
    """Runs a service loop until SIGTERM/SIGINT (graceful: it finishes its work, flushes, commits; exit 0) or a
    fatal error (logged, exit 1); the ops endpoint stops with it. A graceful stop that takes longer than
    `shutdown_timeout_s` ends the process at once (logged, exit 0; see RuntimeSettings.shutdown_timeout_s)."""
    def stop(*_: object) -> None:
        loop.stop()
        exit_after(shutdown_timeout_s)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _watch_signals(stop)
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


_deadline: threading.Timer | None = None


def _watch_signals(stop: Callable[[], None]) -> None:
    """Runs `stop` from a thread as soon as SIGTERM/SIGINT arrives. Python runs a signal handler in the main thread
    only between bytecodes, so one blocked in a librdkafka call (a 30 s transaction commit or group leave after a
    broker outage) ran it that much later, and a stop was not bounded: the C-level handler writes the signal to
    the wakeup fd at once, and this thread reads it."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)

    def watch() -> None:
        while True:
            received = os.read(read_end, 1)
            if received and received[0] in (signal.SIGTERM, signal.SIGINT):
                stop()
                return

    threading.Thread(target=watch, name="cxpulse-signals", daemon=True).start()


def exit_after(seconds: float) -> None:
    """Arms (once) a timer that ends the process after `seconds` unless it has ended by then: the bound on a
    graceful stop (librdkafka's flush, transaction abort, group leave and client teardown can each wait for a broker
    that is not answering). os._exit skips the clients' destructors, which are what can hang."""
    global _deadline
    if _deadline is not None:
        return

    def expire() -> None:
        try:
            log.error("graceful stop took longer than %.0f s: exiting now (a restart resumes from the last commit)",
                      seconds, extra={"shutdown_timeout_s": seconds})
            for stream in (sys.stdout, sys.stderr):  # the log handlers write to them; os._exit flushes nothing
                stream.flush()
        finally:
            os._exit(0)

    _deadline = threading.Timer(seconds, expire)
    _deadline.daemon = True  # does not keep a process that stopped in time alive
    _deadline.start()
    # The last resort, should the interpreter already be finalizing (no thread runs then): SIGALRM's default
    # action (no service sets a handler for it) ends the process whatever it is doing.
    signal.alarm(int(seconds) + 5)
