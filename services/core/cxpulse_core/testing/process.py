"""The kill-restart harness: a service as a separate OS process (`python -m cxpulse_<name>`) that a fault test
can start, kill -9, restart on its existing state and probe through its ops endpoint, plus traffic that keeps
flowing while it happens and the exactly-once tally of what came out (counted by event id).

    svc = ServiceProcess("cxpulse_routing", env, tmp_path / "routing.log")
    svc.start()                                   # returns once /readyz answers 200
    with Traffic(kafka, topic, records) as traffic:
        wait_until(lambda: ..., "some outputs before the kill")
        ready_s = svc.kill_and_restart()          # SIGKILL, start again with the same env, ready again
    tally = EventTally.read(kafka, out_topic, serde)
    assert tally.lost(expected_ids) == set() and tally.duplicated() == {}
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from ..settings import KafkaSettings
from .kafka import unique_name
from .net import free_port, http_get, wait_ready, wait_until

__all__ = ["EventTally", "ReadinessWatch", "ServiceProcess", "Traffic", "free_port", "http_get", "read_topic",
           "wait_until"]


class ServiceProcess:
    """One service process: `python -m <module>`, or `command` (e.g. `cxpulse run <name>` with another venv's
    interpreter). `env` is added to os.environ; CXPULSE_HTTP_PORT (a free port, kept across restarts) and
    CXPULSE_HTTP_HOST are set here. stdout and stderr go to `log` (appended to across restarts)."""

    def __init__(self, module: str, env: Mapping[str, str], log: Path, port: int | None = None,
                 name: str | None = None, command: Sequence[str] | None = None) -> None:
        self.module, self.log = module, log
        self.name = name or module
        self.command = list(command or [sys.executable, "-m", module])
        self.port = port or free_port()
        self.env = os.environ | dict(env) | {"CXPULSE_HTTP_PORT": str(self.port), "CXPULSE_HTTP_HOST": "127.0.0.1"}
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._launched_at = 0.0

    # -- life cycle -----------------------------------------------------------------------------------------
    def start(self, timeout_s: float = 120.0) -> float:
        """Starts the process and waits for /readyz 200; returns the seconds that took."""
        self.launch()
        return self.wait_ready(timeout_s)

    def launch(self) -> ServiceProcess:
        """Starts the process without waiting (several services start side by side; wait_ready() each after)."""
        assert not self.running, f"{self.module} already runs (pid {self.proc.pid if self.proc else '?'})"
        self._launched_at = time.monotonic()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab" if self.starts else "wb") as out:  # one log per ServiceProcess, all its starts
            out.write(f"\n===== start #{self.starts + 1} of {self.module} =====\n".encode())
            out.flush()
            self.proc = subprocess.Popen(self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.starts += 1
        return self

    def wait_ready(self, timeout_s: float = 120.0) -> float:
        """Waits for /readyz 200 (AssertionError with the log's tail when the process exits or the timeout
        passes); returns the seconds since the launch."""
        try:
            wait_ready(self.port, self.module, timeout_s, alive=lambda: self.running)
        except AssertionError as exc:
            raise AssertionError(f"{exc} (exit code {self.returncode})\n{self.log_tail()}") from None
        return time.monotonic() - self._launched_at

    def kill(self) -> None:
        """SIGKILL: no flush, no commit, no goodbye."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 60.0) -> int:
        """Graceful stop; returns the exit code (SIGKILL after the timeout)."""
        self.signal(sig)
        return self.wait(timeout_s)

    def signal(self, sig: int = signal.SIGTERM) -> None:
        """Sends `sig` if the process still runs, without waiting (stop several side by side, then wait() each)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout_s: float = 60.0) -> int:
        """Waits for the exit; SIGKILL after the timeout. Returns the exit code."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def kill_and_restart(self, timeout_s: float = 120.0) -> float:
        """kill -9, then a new process with the same settings on the existing state (its consumer group, its
        changelogs, its data dir); returns the seconds from the restart until /readyz answered 200."""
        self.kill()
        return self.start(timeout_s)

    def close(self) -> None:
        if self.running:
            self.kill()

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- probes ---------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    @property
    def ready(self) -> bool:
        return self.get("/readyz")[0] == 200

    def get(self, path: str) -> tuple[int, str]:
        return http_get(self.port, path)

    def metric(self, name: str, **labels: str) -> float | None:
        """The value of one sample on /metrics (labels must match exactly those given, in any order); None when
        absent."""
        status, text = self.get("/metrics")
        if status != 200:
            return None
        for line in text.splitlines():
            if not line.startswith(name) or line.startswith("#"):
                continue
            head, _, value = line.rpartition(" ")
            sample, _, label_text = head.partition("{")
            if sample != name:
                continue
            found = dict(part.split("=", 1) for part in label_text.rstrip("}").split(",") if "=" in part)
            if {k: v.strip('"') for k, v in found.items()} == labels or (not labels and not label_text):
                return float(value)
        return None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class ReadinessWatch:
    """Polls a service's /readyz in a thread and keeps the sequence of distinct answers (200, 503, 0 for no
    answer), so a test can check that readiness went down during a fault and came back afterwards."""

    def __init__(self, service: ServiceProcess, interval_s: float = 0.25) -> None:
        self.service, self.interval_s = service, interval_s
        self.states: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"readyz-{service.module}")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            status = self.service.get("/readyz")[0]
            if not self.states or self.states[-1] != status:
                self.states.append(status)
            self._stop.wait(self.interval_s)

    @property
    def went_down_and_back(self) -> bool:
        return 200 in self.states and 503 in self.states[self.states.index(200):] and self.states[-1] == 200

    def stop(self) -> list[int]:
        self._stop.set()
        self._thread.join(5)
        return self.states


class Traffic:
    """Produces `records` ((key, value bytes) pairs) to `topic` from a thread, `rate` per second, until they are
    all sent or stop() is called; counts what the broker acknowledged. A producer error (the broker down) does
    not end it: librdkafka retries until delivery.timeout.ms, which is long here."""

    def __init__(self, kafka: KafkaSettings, topic: str, records: Iterable[tuple[str, bytes]], rate: float = 50.0,
                 **producer_config: Any) -> None:
        self.topic, self.rate = topic, rate
        self.records = iter(records)
        self.producer = Producer(kafka.client_config() | {"enable.idempotence": True, "linger.ms": 5,
                                                          "delivery.timeout.ms": 300_000,
                                                          "partitioner": "murmur2_random"} | producer_config)
        self.sent = 0
        self.acked = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"traffic-{topic}")

    def start(self) -> Traffic:
        self._thread.start()
        return self

    def _delivered(self, error: KafkaError | None, _message: Any) -> None:
        if error is None:
            self.acked += 1
        else:
            self.errors.append(str(error))

    def _run(self) -> None:
        interval = 1.0 / self.rate if self.rate > 0 else 0.0
        next_at = time.monotonic()
        for key, value in self.records:
            if self._stop.is_set():
                break
            while True:
                try:
                    self.producer.produce(self.topic, value, key.encode(), on_delivery=self._delivered)
                    break
                except BufferError:
                    self.producer.poll(0.1)
            self.sent += 1
            self.producer.poll(0)
            next_at += interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def wait(self, timeout_s: float = 300.0) -> int:
        """Waits until every record was sent and acknowledged; returns how many."""
        self._thread.join(timeout_s)
        remaining = self.producer.flush(timeout_s)
        assert remaining == 0 and not self.errors, f"traffic not delivered: {remaining} left, {self.errors[:3]}"
        return self.acked

    def stop(self) -> int:
        self._stop.set()
        return self.wait()

    def __enter__(self) -> Traffic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.producer.flush(30)


def read_topic(kafka: KafkaSettings, topic: str, timeout_s: float = 60.0) -> list[Any]:
    """Every committed record in `topic` now (read_committed, up to each partition's end), in partition order."""
    consumer = Consumer(kafka.client_config() | {"group.id": unique_name("tally"), "enable.auto.commit": False,
                                                 "auto.offset.reset": "earliest",
                                                 "isolation.level": "read_committed",
                                                 "enable.partition.eof": True})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        # Open transactions hold the last stable offset below the end: wait for the end, bounded by the timeout.
        pending = set(partitions)
        out = []
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error() is not None:
                if message.error().code() == KafkaError._PARTITION_EOF:
                    _, high = consumer.get_watermark_offsets(TopicPartition(topic, message.partition()), timeout=10)
                    if message.offset() >= high:
                        pending.discard(message.partition())
                continue
            out.append(message)
        assert not pending, f"{topic}: partitions {sorted(pending)} not read to their end in {timeout_s:.0f} s"
        return out
    finally:
        consumer.close()


class EventTally:
    """How many times each event id appears in a topic: the 0 lost / 0 duplicated check of a fault test."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.counts = Counter(ids)

    @classmethod
    def read(cls, kafka: KafkaSettings, topic: str, serde: Any, id_field: str = "event_id") -> EventTally:
        return cls(serde.decode(m.value(), m.topic()).value[id_field] for m in read_topic(kafka, topic))

    def lost(self, expected: Iterable[str]) -> set[str]:
        return set(expected) - set(self.counts)

    def duplicated(self) -> dict[str, int]:
        return {event_id: n for event_id, n in self.counts.items() if n > 1}

    def __len__(self) -> int:
        return len(self.counts)
