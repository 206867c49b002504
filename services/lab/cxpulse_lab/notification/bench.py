"""Delivery latency and outage recovery through a real broker and a real (loopback) webhook receiver.

    from cxpulse_lab.notification.bench import run; run()   # or: python -m cxpulse_lab.notification.bench

Uses KAFKA_BOOTSTRAP_SERVERS when set, else starts a throwaway local broker. Fresh topics each run. Latency is
alert produced (origin_time, stamped just before produce) -> the receiver read the signed request; recovery is
receiver back up -> every alert produced during the outage received, with default backoff settings."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from confluent_kafka import Producer

from cxpulse_core.health import Health
from cxpulse_core.records import SupervisorAlert
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.settings import KafkaSettings, RuntimeSettings
from cxpulse_core.testing.broker import test_broker
from cxpulse_core.testing.kafka import unique_name
from cxpulse_core.testing.net import wait_until
from cxpulse_core.testing.receivers import WebhookReceiver
from cxpulse_core.topics import TopicSpec, create_topics
from cxpulse_notification.app import build
from cxpulse_notification.routes import load_router
from cxpulse_notification.settings import NotificationSettings

SECRET = "bench-secret"


def _alert(alert_id: str, serde: SingleObjectSerde, topic: str) -> bytes:
    now = int(time.time() * 1000)
    value = {"event_id": alert_id, "contact_id": f"c-{alert_id}", "account_id": None, "customer_id": None,
             "agent_id": "agent-1", "queue": "billing", "channel": "voice", "journey_stage": None, "rule": "bench",
             "reason": "benchmark", "evidence": [], "churn_probability": None, "alert_id": alert_id,
             "severity": "critical", "team": "billing", "summary": "bench", "event_time": now, "origin_time": now,
             "produced_time": now}
    return serde.encode(SupervisorAlert.SCHEMA, value, topic)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextlib.contextmanager
def _broker() -> Iterator[str]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    else:
        with test_broker() as servers:
            yield servers


def run(alerts: int = 300, rate_per_s: float = 50.0, outage_alerts: int = 50, outage_s: float = 5.0) -> dict:
    with _broker() as bootstrap:
        return _run(KafkaSettings(bootstrap_servers=bootstrap), alerts, rate_per_s, outage_alerts, outage_s)


def _run(kafka: KafkaSettings, alerts: int, rate_per_s: float, outage_alerts: int, outage_s: float) -> dict:
    prefix = unique_name("bench") + "."
    names = {"alerts_topic": "alerts", "escalations_topic": "escalations", "log_topic": "log",
             "deadletter_topic": "dlq", "delivered_topic": "delivered"}
    create_topics(kafka, [TopicSpec(prefix + n, "", (), "", 3, 1, 3_600_000, "compact" if n == "delivered" else
                                    "delete") for n in names.values()])
    receiver = WebhookReceiver(SECRET).start()  # every request in .requests: at, id, body, signature verified
    routes = Path(tempfile.mkdtemp()) / "routes.yaml"
    routes.write_text(json.dumps({"recipients": {"hook": {"type": "webhook", "secret_env": "BENCH_SECRET",
                                                          "url": f"http://127.0.0.1:{receiver.port}/hook"}},
                                  "routes": [{"notify": ["hook"]}]}))
    settings = NotificationSettings(**{k: prefix + v for k, v in names.items()}, group_id=prefix + "g",
                                    routes_file=routes, contact_rate_per_min=0, recipient_rate_per_min=0)
    service = build(settings, kafka, RuntimeSettings(), load_router(routes, {"BENCH_SECRET": SECRET}), Health(60))
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    serde, topic = SingleObjectSerde(), prefix + "alerts"
    producer = Producer(kafka.client_config() | {"linger.ms": 0, "enable.idempotence": True})
    try:
        # Warm-up: assignment, connections, first-time costs.
        producer.produce(topic, _alert("warm-0", serde, topic), b"warm-0")
        producer.flush(10)
        wait_until(lambda: receiver.requests, "the warm-up delivery", 60, interval_s=0.005)
        # Latency at a steady rate.
        start = len(receiver.requests)
        for i in range(alerts):
            producer.produce(topic, _alert(f"lat-{i}", serde, topic), f"lat-{i}".encode())
            producer.poll(0)
            time.sleep(1 / rate_per_s)
        producer.flush(10)
        wait_until(lambda: len(receiver.requests) >= start + alerts, "the steady-rate deliveries", 60, 0.005)
        latencies = [r.at * 1000 - r.json["origin_time"] for r in receiver.requests[start:]]
        # Outage: the receiver goes down, alerts keep coming, the receiver comes back.
        receiver.stop()
        down_at = time.time()
        for i in range(outage_alerts):
            producer.produce(topic, _alert(f"out-{i}", serde, topic), f"out-{i}".encode())
        producer.flush(10)
        time.sleep(max(0.0, outage_s - (time.time() - down_at)))
        receiver.start()
        up_at = time.time()
        wait_until(lambda: len({r.id for r in receiver.requests if r.id.startswith("out-")}) >= outage_alerts,
                   "every alert of the outage delivered", 120, 0.005)
        outage = [r.at for r in receiver.requests if r.id.startswith("out-")]
        time.sleep(1.0)  # catch late duplicates
        counts = Counter(r.id for r in receiver.requests)
    finally:
        service.stop()
        thread.join(30)
        receiver.stop()
    return {
        "notification_alerts": alerts, "notification_rate_per_s": rate_per_s,
        "notification_latency_p50_ms": round(statistics.median(latencies), 2),
        "notification_latency_p99_ms": round(_percentile(latencies, 0.99), 2),
        "notification_latency_max_ms": round(max(latencies), 2),
        "notification_outage_s": round(up_at - down_at, 2), "notification_outage_alerts": outage_alerts,
        "notification_recovery_first_s": round(min(outage) - up_at, 3),
        "notification_recovery_all_s": round(max(outage) - up_at, 3),
        "notification_duplicates": sum(c - 1 for c in counts.values()),
        "notification_lost": outage_alerts + alerts + 1 - len(counts),
        "notification_signatures_ok": all(r.verified for r in receiver.requests),
        "notification_backoff": f"{settings.backoff_initial_s}s x{settings.backoff_multiplier} "
                                f"max {settings.backoff_max_s}s jitter {settings.backoff_jitter}",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
