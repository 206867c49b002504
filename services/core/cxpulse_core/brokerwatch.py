"""Whether the Kafka cluster answers, for /readyz: a thread asks the cluster to describe itself every few seconds
with its own client (so it works beside confluent-kafka and faust alike). DescribeCluster answers with the broker
list only; a metadata request for every topic (list_topics) costs the broker and this process in proportion to the
cluster's topics (160 ms and ~2 MB of objects per call with 638 topics, against 7 ms), every interval. While
nothing answers the service is not ready; it keeps running, its clients reconnect by themselves, and readiness
returns with the broker.

The client is destroyed before the interpreter finalizes (`close`, registered with atexit): librdkafka's background
thread serves an AdminClient's logs and results by calling into Python, and a call after Python is gone crashes
the process (a SIGSEGV in `rdk:bg` at the end of a test run whose broker had stopped)."""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from . import metrics
from .health import Health
from .settings import KafkaSettings

log = logging.getLogger(__name__)
_LIBRDKAFKA_LOG = logging.getLogger("librdkafka")
_CLOSE_WAIT_S = 5.0  # for the thread to end: destroying the client fails its pending request at once


class BrokerWatch:
    def __init__(self, kafka: KafkaSettings, health: Health, service: str, interval_s: float = 2.0,
                 timeout_s: float = 3.0) -> None:
        self.health, self.service, self.interval_s, self.timeout_s = health, service, interval_s, timeout_s
        self.admin: AdminClient | None = AdminClient(kafka.client_config() | {
            "logger": _LIBRDKAFKA_LOG, "client.id": f"{service}-watch", "reconnect.backoff.max.ms": 2000})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="broker-watch", daemon=True)
        metrics.BROKER_REACHABLE.labels(service).set(1)

    def start(self) -> BrokerWatch:
        self._thread.start()
        _STARTED.add(self)
        return self

    def close(self) -> None:
        """Stops the thread and destroys the client, which ends its librdkafka threads and fails a pending request."""
        _STARTED.discard(self)
        self._stop.set()
        self.admin = None  # the last reference: the thread holds none while it waits (see check)
        if self._thread.is_alive():
            self._thread.join(_CLOSE_WAIT_S)

    def check(self) -> bool:
        admin = self.admin
        if admin is None:
            return False
        try:
            future = admin.describe_cluster(request_timeout=self.timeout_s)
            del admin  # so that close() destroys the client at once, not after the wait
            future.result()
            return True
        except KafkaException as exc:
            if not self._stop.is_set():
                self._unreachable(exc.args[0] if exc.args else exc)
            return False

    def _unreachable(self, error: Any) -> None:
        metrics.child(metrics.BROKER_ERRORS, self.service, "unreachable").inc()
        if self.health.broker_reachable:
            log.error("Kafka unreachable: not ready until it answers again", extra={"error": str(error)})

    def _run(self) -> None:
        while not self._stop.is_set():
            reachable = self.check()
            if self._stop.is_set():
                return
            if reachable and not self.health.broker_reachable:
                log.warning("Kafka reachable again")
            self.health.broker_reachable = reachable
            metrics.BROKER_REACHABLE.labels(self.service).set(1 if reachable else 0)
            self._stop.wait(self.interval_s)


def watch_broker(kafka: KafkaSettings, health: Health, service: str) -> BrokerWatch:
    return BrokerWatch(kafka, health, service).start()


_STARTED: weakref.WeakSet[BrokerWatch] = weakref.WeakSet()


@atexit.register
def _close_started() -> None:
    watches = list(_STARTED)
    for watch in watches:  # all stopped first: none reports the cluster gone while another is closed
        watch._stop.set()
    for watch in watches:
        watch.close()
