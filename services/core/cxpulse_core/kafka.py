"""Kafka clients with the settings every cxpulse service shares."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer

from . import metrics
from .settings import KafkaSettings

log = logging.getLogger(__name__)
_LIBRDKAFKA_LOG = logging.getLogger("librdkafka")  # client logs as structured lines, not raw stderr


# Errors librdkafka reports again and again while it retries (a wrong password: ~10 a second, forever).
_AUTH_ERRORS = frozenset({KafkaError.SASL_AUTHENTICATION_FAILED, KafkaError._AUTHENTICATION,
                          KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED,
                          KafkaError.CLUSTER_AUTHORIZATION_FAILED, KafkaError._SSL})
_HINTS = {KafkaError.SASL_AUTHENTICATION_FAILED: "check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_SASL_MECHANISM",
          KafkaError._AUTHENTICATION: "check KAFKA_SASL_* and KAFKA_SSL_* settings",
          KafkaError._SSL: "check KAFKA_SSL_* settings and the broker certificate",
          KafkaError._TRANSPORT: "check KAFKA_BOOTSTRAP_SERVERS and KAFKA_SECURITY_PROTOCOL",
          KafkaError._ALL_BROKERS_DOWN: "check KAFKA_BOOTSTRAP_SERVERS and that the brokers are up"}


class ErrorBackoff:
    """Logs a repeated client error once, then again after 1, 2, 4 ... up to 60 s with how often it recurred in
    between: one clear JSON line instead of a flood."""

    def __init__(self, first_s: float = 1.0, max_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.first_s, self.max_s, self.clock = first_s, max_s, clock
        self._state: dict[int, tuple[float, float, int]] = {}  # code -> (next log time, current gap, suppressed)

    def should_log(self, code: int) -> tuple[bool, int]:
        """(log it now?, how many were suppressed since the last line)."""
        now = self.clock()
        due, gap, suppressed = self._state.get(code, (now, self.first_s / 2, 0))
        if now < due:
            self._state[code] = (due, gap, suppressed + 1)
            return False, 0
        gap = min(gap * 2, self.max_s)
        self._state[code] = (now + gap, gap, 0)
        return True, suppressed


def _error_callback(on_fatal: Callable[[str], None] | None) -> Callable[[KafkaError], None]:
    backoff = ErrorBackoff()

    def callback(error: KafkaError) -> None:
        if error.fatal():
            log.error("fatal Kafka client error", extra={"error": str(error)})
            if on_fatal:
                on_fatal(str(error))
            return
        # transient: librdkafka retries by itself; say so once, then with back-off
        metrics.child(metrics.BROKER_ERRORS, metrics.process_service(), error.name()).inc()
        log_now, suppressed = backoff.should_log(error.code())
        if not log_now:
            return
        extra = {"error": str(error), "code": error.name(), "repeated_since_last": suppressed}
        if error.code() in _HINTS:
            extra["hint"] = _HINTS[error.code()]
        if error.code() in _AUTH_ERRORS:
            log.error("Kafka authentication/authorization failed (retrying)", extra=extra)
        else:
            log.warning("Kafka client error (retrying)", extra=extra)
    return callback


def make_producer(kafka: KafkaSettings, on_fatal: Callable[[str], None] | None = None,
                  **overrides: Any) -> Producer:
    tunable = {
        "linger.ms": 2,  # small: alerts are latency-sensitive; batching still happens under load
        "compression.type": "lz4",  # faust (aiokafka) reads it through cramjam, pinned too
    }
    required = {
        "enable.idempotence": True,  # implies acks=all; retries cannot reorder or duplicate
        "acks": "all",
        "logger": _LIBRDKAFKA_LOG,
        # Java's partitioner (murmur2), so keys land where Java clients, Kafka Streams and faust put them.
        "partitioner": "murmur2_random",
        "error_cb": _error_callback(on_fatal),
    }
    return Producer(_config(kafka, tunable, required) | overrides)


def make_consumer(kafka: KafkaSettings, group_id: str, on_fatal: Callable[[str], None] | None = None,
                  **overrides: Any) -> Consumer:
    tunable = {
        "auto.commit.interval.ms": 1000,
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": "cooperative-sticky",
        "max.poll.interval.ms": 300000,
        "session.timeout.ms": 10000,  # a dead replica's partitions move on after 10 s, not the default 45 s
        # Prefetch at most 16 MB (librdkafka's default is 64 MB): a consumer that lags behind a burst fills the
        # whole queue, and that memory outlives the burst (minutes of this pipeline's traffic still fit).
        "queued.max.messages.kbytes": 16384,
    }
    required = {
        "group.id": group_id,
        "enable.auto.commit": True,  # commits only what we stored ...
        "enable.auto.offset.store": False,  # ... and we store an offset only after its outputs are acked
        "logger": _LIBRDKAFKA_LOG,
        "error_cb": _error_callback(on_fatal),
    }
    return Consumer(_config(kafka, tunable, required) | overrides)


def batched_fetches(wait_ms: int) -> dict[str, Any]:
    """Consumer settings for a service off the latency-critical path: a fetch waits up to `wait_ms` for 1 MB instead
    of returning with the first record, so the broker serves a few fetches a second, not one per record; {} for 0."""
    return {"fetch.wait.max.ms": wait_ms, "fetch.min.bytes": 1 << 20} if wait_ms else {}


def _config(kafka: KafkaSettings, tunable: dict[str, Any], required: dict[str, Any]) -> dict[str, Any]:
    """Connection settings, then our defaults, which passed-through properties (KAFKA_CONFIG__*) may change, then
    what the delivery guarantees rest on, which they may not (a warning says so)."""
    passthrough = kafka.passthrough()
    for key in passthrough.keys() & required.keys():
        log.warning("ignoring a passed-through Kafka property cxpulse relies on", extra={"property": key})
    return kafka.client_config(passthrough=False) | tunable | passthrough | required
