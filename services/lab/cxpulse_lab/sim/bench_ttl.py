"""State TTL and recovery benchmark (`cxpulse bench --only ttl`): the whole pipeline, each service its own process,
with a short per-contact TTL; N contacts that start, say one thing and never end; RSS per service before, at the
peak and after the TTL has passed (a trickle of complete contacts keeps every service's batches, and so its
expiry, running, as live traffic would), then a second wave as large (which must reuse the freed memory, not grow
RSS again: `second_wave_growth_mb`); then each service killed (-9) and restarted on its state, in turn, with the
seconds until its /readyz answered 200 again.

RSS is what the OS reports (/proc/<pid>/status VmRSS). Expiry gives memory back (cxpulse_core.memory: gc and
malloc_trim), but CPython and glibc keep some of a heap that grew: `returned_share` says how much of the growth
went away, (peak - after) / (peak - baseline).

The never-ending contacts belong to ACCOUNTS accounts that the warm-up has already seen (one complete contact each),
as a contact center's traffic comes from a standing customer base: per-account state (churn history, the latest
churn risk, an account's latest queue) is then part of the baseline, and what the waves add is per-contact state,
which is what the TTL is for. Per-account state has its own bounds (by count, see each service's settings)."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxpulse_core.kafka import make_producer
from cxpulse_core.settings import KafkaSettings, RuntimeSettings
from cxpulse_core.testing.kafka import unique_name
from cxpulse_core.testing.receivers import WebhookReceiver
from cxpulse_core.topics import RAW_EVENTS, create_topics, load_topics

from .bench_e2e import _rss_mb
from .pipeline import SERVICES, Pipeline, isolated_env, webhook_routes_file

SECRET = "bench-webhook-secret"
ACCOUNTS = 2000
PER_CONTACT = ("ingest", "sentiment", "routing", "insights")  # services with per-contact state (and its TTL)
CAUGHT_UP_LAG = 100  # records a service may lag behind and count as caught up (the trickle keeps some in flight)
SWEEP_S = 10  # an expiry sweep runs at least this often in every service with per-contact state
RELEASE_WAIT_S = 25  # MemoryRelease gives a sweep's tail back 20 s after it, at the next batch
TEXTS = ("I was charged twice and nobody has called me back, this is really frustrating.",
         "Thanks, that sorts it out, I appreciate the help.",
         "Can you tell me when the engineer is coming, the window was this morning.")


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def contact_events(contact: str, account: str, text: str, now: int, end: bool = False) -> list[dict[str, Any]]:
    events = [{"event_id": f"{contact}-s", "type": "contact_started", "contact_id": contact, "timestamp": _stamp(now),
               "account_id": account, "agent_id": f"agent-{sum(map(ord, contact)) % 50}", "queue": "billing",
               "channel": "chat"},
              {"event_id": f"{contact}-u1", "type": "utterance", "contact_id": contact, "timestamp": _stamp(now + 1),
               "speaker": "customer", "text": text}]
    if end:
        events.append({"event_id": f"{contact}-e", "type": "contact_ended", "contact_id": contact,
                       "timestamp": _stamp(now + 2), "status": "completed"})
    return events


class Producer:
    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self.topic, self.producer, self.failed = topic, make_producer(kafka), 0

    def send(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            while True:
                try:
                    self.producer.produce(self.topic, json.dumps(event).encode(), event["contact_id"].encode(),
                                          on_delivery=self._delivered)
                    break
                except BufferError:
                    self.producer.poll(0.1)
        self.producer.poll(0)

    def _delivered(self, error: object, _message: object) -> None:
        self.failed += error is not None

    def flush(self) -> None:
        assert self.producer.flush(60) == 0 and not self.failed, "benchmark input not delivered"


class Trickle:
    """One complete contact per second, so that every service keeps processing batches (and expiring)."""

    def __init__(self, producer: Producer) -> None:
        self.producer, self.sent = producer, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.sent += 1
            self.producer.send(contact_events(f"trickle-{self.sent}", "acct-trickle", TEXTS[1],
                                              int(time.time() * 1000), end=True))

    def __enter__(self) -> Trickle:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _metric(pipeline: Pipeline, service: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include `labels`."""
    target = next(s for s in pipeline.running if s.name == service)
    total = 0.0
    for line in target.get("/metrics")[1].splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def _rss(pipeline: Pipeline) -> dict[str, float]:
    return {s.name: round(_rss_mb(s.pid), 1) for s in pipeline.running}


def _wait_scored(pipeline: Pipeline, runtime: RuntimeSettings, count: float, timeout_s: float,
                 peak: dict[str, float] | None = None) -> float:
    """Waits until sentiment has scored `count` utterances; samples RSS meanwhile into `peak` (max per service)."""
    topic = runtime.topic("cx.sentiment.utterances")
    deadline = time.monotonic() + timeout_s
    while (scored := _metric(pipeline, "sentiment", "cxpulse_messages_out_total", topic=topic)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {scored:.0f} of {count:.0f} utterances scored in {timeout_s:.0f} s")
        pipeline.check_alive()
        _sample(pipeline, peak)
        time.sleep(1.0)
    return scored


def _sample(pipeline: Pipeline, peak: dict[str, float] | None) -> None:
    if peak is not None:
        for name, mb in _rss(pipeline).items():
            peak[name] = max(peak.get(name, 0.0), mb)


def _wave(pipeline: Pipeline, runtime: RuntimeSettings, producer: Producer, wave: int, contacts: int,
          ttl_s: float, scored_before: float) -> dict[str, Any]:
    """`contacts` new contacts that never end; RSS at the peak (sampled while they are processed) and once every
    service with per-contact state has expired them all and given the memory back."""
    peak: dict[str, float] = {}
    expired_before = {name: _expired(pipeline, name) for name in PER_CONTACT}
    started = time.monotonic()
    now = int(time.time() * 1000)
    for i in range(contacts):
        producer.send(contact_events(f"open-{wave}-{i}", f"acct-{i % ACCOUNTS}", TEXTS[i % 3], now + i))
        if i % 2000 == 0:
            _sample(pipeline, peak)
    producer.flush()
    scored = _wait_scored(pipeline, runtime, scored_before + contacts, 1800, peak)
    loaded_s = time.monotonic() - started
    with Trickle(producer):
        # Each service counts a contact's TTL from when it processed the contact's last record, and the slower
        # ones (routing, insights) are still reading the wave when sentiment is done. A record read late can bring
        # a contact back after its expiry (routing's guidance, in insights), to expire one TTL later: wait until
        # every service has caught up with the wave, then one TTL (and a sweep) more, and until every service with
        # per-contact state has expired the whole wave; then for the release of a sweep's tail.
        waited = time.monotonic()
        caught_up = _wait_caught_up(pipeline, peak, ttl_s + 900)
        pending = dict(expired_before)
        while pending or time.monotonic() < caught_up + ttl_s + SWEEP_S:
            _sample(pipeline, peak)
            for name in list(pending):
                if _expired(pipeline, name) >= pending[name] + contacts:
                    del pending[name]
            if time.monotonic() - waited > ttl_s + 900:
                raise TimeoutError(f"contacts not expired within the TTL + 900 s by {sorted(pending)}")
            time.sleep(1.0)
        expired_s = time.monotonic() - waited
        time.sleep(RELEASE_WAIT_S)
        after = _rss(pipeline)
    producer.flush()
    return {"load_s": round(loaded_s, 1), "peak": peak, "after": after, "scored": scored,
            "expired_after_s": round(expired_s, 1)}


def _wait_caught_up(pipeline: Pipeline, peak: dict[str, float], timeout_s: float) -> float:
    """Waits until no service with per-contact state lags more than CAUGHT_UP_LAG records behind its inputs;
    returns when (monotonic)."""
    deadline = time.monotonic() + timeout_s
    while True:
        _sample(pipeline, peak)
        lag = {name: _metric(pipeline, name, "cxpulse_consumer_lag") for name in PER_CONTACT}
        if max(lag.values()) <= CAUGHT_UP_LAG:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"services still behind after {timeout_s:.0f} s: {lag}")
        time.sleep(1.0)


def _expired(pipeline: Pipeline, service: str) -> float:
    return _metric(pipeline, service, "cxpulse_state_expired_total", state="contacts")


def ttl_env(ttl_s: float) -> dict[str, str]:
    """Every per-contact TTL, and the dedup windows, set to `ttl_s`; expiry checked every 5 s."""
    ttl = str(ttl_s)
    return {
        "INGEST_CONTACT_TTL_S": ttl, "SENTIMENT_CONTACT_TTL_S": ttl, "ROUTING_CONTACT_TTL_S": ttl,
        "ROUTING_CONTACT_TTL_CHECK_S": "5", "INSIGHTS_CONTACT_TTL_S": ttl,
        "INSIGHTS_ENDED_GRACE_S": ttl,  # ended contacts settle within the TTL, as 10 min does within 4 h
        "CHURN_CONTACT_TTL_S": ttl, "CHURN_CONTACT_TTL_CHECK_S": "5",  # escalations of contacts that never end
        # The dedup windows (ingest's event ids, notification's delivered alerts) hold their ids this long.
        "INGEST_DEDUP_TTL_MS": str(int(ttl_s * 1000)), "NOTIFICATION_DEDUP_TTL_HOURS": str(ttl_s / 3600),
        "NOTIFICATION_PRUNE_INTERVAL_S": "5"}


def run(kafka: KafkaSettings, contacts: int = 20_000, ttl_s: float = 60.0) -> dict[str, Any]:
    runtime = RuntimeSettings(topic_prefix=unique_name("bench-ttl") + ".", http_port=0)
    create_topics(kafka, load_topics(), runtime.topic_prefix)
    work = Path(tempfile.mkdtemp(prefix="cxpulse-bench-ttl-"))
    webhook = WebhookReceiver(SECRET).start()
    routes = webhook_routes_file(work, webhook.port)
    level = os.environ.get("CXPULSE_BENCH_LOG_LEVEL", "WARNING")
    env = isolated_env(runtime.topic_prefix, work) | ttl_env(ttl_s) | {
        "CXPULSE_WEBHOOK_SECRET": SECRET, "CXPULSE_LOG_LEVEL": level, "NOTIFICATION_ROUTES_FILE": str(routes)}
    pipeline = Pipeline(kafka.bootstrap_servers, work / "logs", runtime.topic_prefix, base_port=0, env=env)
    producer = Producer(kafka, runtime.topic(RAW_EVENTS))
    result: dict[str, Any] = {"contacts": contacts, "ttl_s": ttl_s}
    try:
        pipeline.start()
        pipeline.wait_ready(240)
        now = int(time.time() * 1000)
        for i in range(ACCOUNTS):  # warm-up: model sessions, tables, connections, and the accounts
            producer.send(contact_events(f"warm-{i}", f"acct-{i}", TEXTS[i % 3], now + i, end=True))
        producer.flush()
        _wait_scored(pipeline, runtime, ACCOUNTS, 600)
        with Trickle(producer):  # the warm-up's own expiry and release, as after a wave
            time.sleep(30)
        baseline = _rss(pipeline)
        first = _wave(pipeline, runtime, producer, 1, contacts, ttl_s, ACCOUNTS)
        # A second wave as large: with the state expired, it reuses the memory the first one freed (CPython and
        # glibc keep much of a grown heap mapped, so RSS need not drop, but it must not grow again).
        second = _wave(pipeline, runtime, producer, 2, contacts, ttl_s, first["scored"])
        result |= {
            "load_s": first["load_s"],
            "expired_after_s": [first["expired_after_s"], second["expired_after_s"]],
            "rss_mb": {name: {"baseline": baseline[name], "peak": first["peak"][name],
                              "after_ttl": first["after"][name], "peak_2": second["peak"][name],
                              "after_ttl_2": second["after"][name]} for name in SERVICES},
            "returned_share": {name: round((first["peak"][name] - first["after"][name])
                                           / (first["peak"][name] - baseline[name]), 2)
                               if first["peak"][name] - baseline[name] > 1 else None for name in SERVICES},
            "second_wave_growth_mb": {name: round(second["peak"][name] - first["peak"][name], 1)
                                      for name in SERVICES},
        }
        recovery: dict[str, float | None] = {}
        for name in SERVICES:  # kill -9 under the trickle, one at a time, restart on the existing state
            with Trickle(producer):
                seconds = pipeline.kill_and_restart(name, timeout_s=120)
            recovery[name] = None if seconds is None else round(seconds, 1)
        result["recovery_after_kill9_s"] = recovery
        result["recovery_note"] = ("seconds from the restart of a kill -9'd process until /readyz 200, on its "
                                   "existing state, under a trickle of traffic; None: not ready within 120 s")
    finally:
        pipeline.stop()
        webhook.stop()
    return result
