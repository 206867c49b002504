"""The notification service against a real broker, a real HTTP receiver and a real SMTP server on loopback:
signed delivery, outage and recovery, 4xx to the dead-letter topic, 429 + Retry-After, e-mail, deduplication,
rate limits, and a kill -9 in the middle of retrying."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer

from cxpulse_core.health import Health
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.settings import KafkaSettings, RuntimeSettings
from cxpulse_core.testing.kafka import headers_of, produce, unique_name
from cxpulse_core.testing.net import free_port
from cxpulse_core.testing.receivers import WebhookReceiver
from cxpulse_core.testing.services import RunningLoop
from cxpulse_notification.app import build
from cxpulse_notification.routes import load_router
from cxpulse_notification.settings import NotificationSettings

pytestmark = pytest.mark.kafka
SECRET = "it-secret-0123456789"
ALERT = "io.cxpulse.routing.SupervisorAlert"
ESCALATION = "io.cxpulse.routing.Escalation"
serde = SingleObjectSerde()


def alert(alert_id: str, contact: str = "c-1", severity: str = "critical", team: str = "billing") -> dict[str, Any]:
    now = int(time.time() * 1000)
    return {"event_id": alert_id, "contact_id": contact, "account_id": "acct-1", "customer_id": None,
            "agent_id": "agent-7", "queue": "billing", "channel": "voice", "journey_stage": None,
            "rule": "anger_spike", "reason": "anger 0.82 > 0.7", "evidence": [], "churn_probability": 0.4,
            "alert_id": alert_id, "severity": severity, "team": team, "summary": f"Angry customer on {contact}",
            "event_time": now, "origin_time": now, "produced_time": now}


def escalation(event_id: str, contact: str = "c-9") -> dict[str, Any]:
    now = int(time.time() * 1000)
    return {"event_id": event_id, "contact_id": contact, "account_id": None, "customer_id": None, "agent_id": None,
            "queue": "billing", "channel": "voice", "journey_stage": None, "rule": "sustained_negative",
            "reason": "negative for 3 turns", "evidence": [], "churn_probability": None, "target_queue": "retention",
            "priority": 1, "event_time": now, "origin_time": now, "produced_time": now}


class Reader:
    """Reads a topic from the beginning and keeps everything; wait_for polls until a predicate holds."""

    def __init__(self, kafka: KafkaSettings, topic: str, decode: bool = True) -> None:
        self.consumer = Consumer(kafka.client_config() | {"group.id": unique_name("it-reader"),
                                                          "auto.offset.reset": "earliest"})
        self.consumer.subscribe([topic])
        self.decode = decode
        self.messages: list[Any] = []
        self.records: list[dict[str, Any]] = []

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout_s: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout_s
        while not predicate(self.records):
            assert time.monotonic() < deadline, f"timed out; have {self.records}"
            message = self.consumer.poll(0.1)
            if message is not None and message.error() is None:
                self.messages.append(message)
                self.records.append(serde.decode(message.value()).value if self.decode else headers_of(message))
        return self.records

    def settle(self, seconds: float) -> list[dict[str, Any]]:
        end = time.monotonic() + seconds
        self.wait_for(lambda _: time.monotonic() >= end, seconds + 5)
        return self.records

    def close(self) -> None:
        self.consumer.close()


def outcomes(records: list[dict[str, Any]], *wanted: str) -> list[dict[str, Any]]:
    return [r for r in records if r["outcome"] in wanted]


def write_routes(path: Path, receiver_url: str, slack_url: str | None = None, email: str | None = None) -> Path:
    recipients: dict[str, Any] = {"hook": {"type": "webhook", "url": receiver_url, "secret_env": "IT_SECRET",
                                           "timeout_s": 2}}
    notify = ["hook"]
    if slack_url:
        recipients["chat"] = {"type": "slack", "url": slack_url, "secret_env": "IT_SECRET"}
        notify.append("chat")
    if email:
        recipients["mail"] = {"type": "email", "to": [email]}
        notify.append("mail")
    path.write_text(json.dumps({"recipients": recipients, "routes": [{"name": "all", "notify": notify}]}))
    return path


@pytest.fixture
def env(kafka_settings, new_topic, tmp_path):
    """Fresh topics and settings (fast retries) for one test."""
    names = {"alerts_topic": new_topic("alerts"), "escalations_topic": new_topic("esc"),
             "log_topic": new_topic("log"), "deadletter_topic": new_topic("dlq"),
             "delivered_topic": new_topic("delivered", compact=True), "group_id": unique_name("notif")}
    base = names | {"backoff_initial_s": 0.1, "backoff_max_s": 0.4, "max_attempts": 100, "http_timeout_s": 2,
                    "session_timeout_ms": 6000, "retry_log_interval_s": 0}  # log every retry unless a test says
    return {"kafka": kafka_settings, "settings": base, "tmp": tmp_path}


class Service:
    """The service in a thread of the test process."""

    def __init__(self, env: dict[str, Any], routes: Path, **overrides: Any) -> None:
        settings = NotificationSettings(**(env["settings"] | {"routes_file": routes} | overrides))
        router = load_router(routes, {"IT_SECRET": SECRET})
        self.service = build(settings, env["kafka"], RuntimeSettings(), router, Health(60))
        self.running = RunningLoop(self.service)

    def stop(self) -> None:
        self.running.stop()  # raises what the service raised, failing the test


def send(env: dict[str, Any], *records: dict[str, Any], schema: str = ALERT) -> None:
    topic = env["settings"]["alerts_topic" if schema == ALERT else "escalations_topic"]
    produce(env["kafka"], topic, [(r["contact_id"], serde.encode(schema, r, topic)) for r in records])


def test_signed_webhook_slack_and_escalation_are_delivered_and_logged(env):
    receiver = WebhookReceiver(SECRET).start()
    slack = f"http://127.0.0.1:{receiver.port}/slack"
    service = Service(env, write_routes(env["tmp"] / "r.yaml", receiver.url(), slack_url=slack))
    log = Reader(env["kafka"], env["settings"]["log_topic"])
    try:
        send(env, alert("a-1"))
        send(env, escalation("x-1"), schema=ESCALATION)
        records = log.wait_for(lambda rs: len(outcomes(rs, "delivered")) == 4)
    finally:
        service.stop()
        receiver.stop()
        log.close()
    assert all(r.verified for r in receiver.requests)
    assert sorted(receiver.keys("/hook")) == ["a-1", "x-1"] and sorted(receiver.keys("/slack")) == ["a-1", "x-1"]
    hook = next(r.json for r in receiver.requests if r.path == "/hook" and r.json["kind"] == "escalation")
    assert hook["severity"] == "critical" and hook["target_queue"] == "retention"
    chat = next(r.json for r in receiver.requests if r.path == "/slack")
    assert chat["text"] and chat["blocks"][0]["type"] == "section"
    first = outcomes(records, "delivered")[0]
    assert first["status_code"] == 200 and first["attempt"] == 1 and first["latency_ms"] >= 0
    assert {r["channel"] for r in records} == {"webhook", "slack"} and log.messages[0].key() in (b"a-1", b"x-1")


def test_receiver_down_then_up_delivers_everything_once(env):
    port = free_port()
    service = Service(env, write_routes(env["tmp"] / "r.yaml", f"http://127.0.0.1:{port}/hook"))
    log = Reader(env["kafka"], env["settings"]["log_topic"])
    receiver = WebhookReceiver(SECRET, port)
    try:
        send(env, *(alert(f"a-{i}", contact=f"c-{i}") for i in range(5)))
        log.wait_for(lambda rs: len({r["alert_id"] for r in outcomes(rs, "retry")}) == 5)
        receiver.start()
        records = log.wait_for(lambda rs: len(outcomes(rs, "delivered")) == 5)
        log.settle(1.0)
    finally:
        service.stop()
        receiver.stop()
        log.close()
    assert sorted(receiver.keys()) == [f"a-{i}" for i in range(5)]  # none lost, none twice
    assert len(outcomes(records, "delivered")) == 5 and not outcomes(records, "failed")
    retry = outcomes(records, "retry")[0]
    assert "connection error" in retry["error"] and retry["next_attempt_time"] > retry["produced_time"]


def test_a_4xx_is_dead_lettered_without_retry(env):
    receiver = WebhookReceiver(SECRET).start()
    receiver.script = [(400, {})]
    service = Service(env, write_routes(env["tmp"] / "r.yaml", receiver.url()))
    log = Reader(env["kafka"], env["settings"]["log_topic"])
    dead = Reader(env["kafka"], env["settings"]["deadletter_topic"], decode=False)
    try:
        send(env, alert("a-400"))
        produce(env["kafka"], env["settings"]["alerts_topic"], [("c-bad", b"not avro")])
        headers = dead.wait_for(lambda hs: len(hs) == 2)
        records = log.wait_for(lambda rs: len(outcomes(rs, "failed")) == 1)
        log.settle(1.0)
    finally:
        service.stop()
        receiver.stop()
        log.close()
        dead.close()
    assert receiver.keys() == ["a-400"]  # one attempt only
    assert [(r["outcome"], r["attempt"], r["status_code"]) for r in records] == [("failed", 1, 400)]
    by_reason = {h["cxpulse.error.reason"]: (h, m) for h, m in zip(headers, dead.messages, strict=True)}
    rejected, message = by_reason["rejected"]
    assert rejected["cxpulse.error.source.topic"] == env["settings"]["alerts_topic"]
    assert rejected["cxpulse.notification.recipient"] == "hook" and "HTTP 400" in rejected["cxpulse.error.message"]
    assert serde.decode(message.value()).value["alert_id"] == "a-400"  # the original alert, untouched
    assert by_reason["decode_error"][1].value() == b"not avro"


def test_a_429_is_retried_after_retry_after(env):
    receiver = WebhookReceiver(SECRET).start()
    receiver.script = [(429, {"Retry-After": "1"})]
    service = Service(env, write_routes(env["tmp"] / "r.yaml", receiver.url()))
    log = Reader(env["kafka"], env["settings"]["log_topic"])
    try:
        send(env, alert("a-429"))
        records = log.wait_for(lambda rs: len(outcomes(rs, "delivered")) == 1)
    finally:
        service.stop()
        receiver.stop()
        log.close()
    assert [r["outcome"] for r in records] == ["retry", "delivered"] and records[0]["status_code"] == 429
    first, second = receiver.requests
    assert second.at - first.at >= 1.0  # waited as asked (the backoff alone would be <= 0.1 s)
    assert receiver.keys() == ["a-429", "a-429"]  # the same idempotency key on the retry


def test_email_is_multipart_text_and_html_over_real_smtp(env, mail_sink):
    receiver = WebhookReceiver(SECRET).start()
    routes = write_routes(env["tmp"] / "r.yaml", receiver.url(), email="lead@example.com")
    service = Service(env, routes, smtp_host=mail_sink.host, smtp_port=mail_sink.port)
    log = Reader(env["kafka"], env["settings"]["log_topic"])
    try:
        send(env, alert("a-mail"))
        records = log.wait_for(lambda rs: len(outcomes(rs, "delivered")) == 2)
    finally:
        service.stop()
        receiver.stop()
        log.close()
    mail = next(r for r in records if r["channel"] == "email")
    assert mail["recipient"] == "lead@example.com" and mail["status_code"] == 250
    [message] = mail_sink.messages
    assert message.get_content_type() == "multipart/alternative" and "[critical]" in message["Subject"]
    assert message["X-Cxpulse-Alert-Id"] == "a-mail"
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    assert "Angry customer on c-1" in text and "anger 0.82 &gt; 0.7" in page and "<table" in page


def test_duplicates_are_dropped_and_rate_limits_are_logged(env):
    receiver = WebhookReceiver(SECRET).start()
    service = Service(env, write_routes(env["tmp"] / "r.yaml", receiver.url()), contact_rate_per_min=1,
                      contact_burst=2)
    log = Reader(env["kafka"], env["settings"]["log_topic"])
    try:
        send(env, alert("a-1"), alert("a-1"), alert("a-2"), alert("a-3"))  # same contact c-1
        records = log.wait_for(lambda rs: len(outcomes(rs, "delivered", "deduplicated", "rate_limited")) == 4)
    finally:
        service.stop()
        receiver.stop()
        log.close()
    assert sorted((r["alert_id"], r["outcome"]) for r in records) == [
        ("a-1", "deduplicated"), ("a-1", "delivered"), ("a-2", "delivered"), ("a-3", "rate_limited")]
    assert sorted(receiver.keys()) == ["a-1", "a-2"]


def up_and_down_routes(tmp: Path, up: WebhookReceiver, down_port: int) -> Path:
    """Every alert to a receiver that answers (`up`) and to one on `down_port` that may be down."""
    routes = tmp / "r.yaml"
    routes.write_text(json.dumps({
        "recipients": {"up": {"type": "webhook", "url": up.url(), "secret_env": "IT_SECRET"},
                       "down": {"type": "webhook", "url": f"http://127.0.0.1:{down_port}/hook",
                                "secret_env": "IT_SECRET"}},
        "routes": [{"notify": ["up", "down"]}]}))
    return routes


def test_a_restart_mid_retry_resumes_and_delivers_exactly_once(env):
    up, down_port = WebhookReceiver(SECRET).start(), free_port()
    routes = up_and_down_routes(env["tmp"], up, down_port)
    process_env = os.environ | {f"NOTIFICATION_{k.upper()}": str(v) for k, v in env["settings"].items()} | {
        "NOTIFICATION_ROUTES_FILE": str(routes), "IT_SECRET": SECRET, "CXPULSE_HTTP_PORT": "0",
        "KAFKA_BOOTSTRAP_SERVERS": env["kafka"].bootstrap_servers}
    args = [sys.executable, "-m", "cxpulse_notification"]
    log = Reader(env["kafka"], env["settings"]["log_topic"])
    down = WebhookReceiver(SECRET, down_port)
    first = subprocess.Popen(args, env=process_env, stderr=subprocess.DEVNULL)
    second = None
    try:
        send(env, *(alert(f"a-{i}", contact=f"c-{i}") for i in range(3)))
        # "up" got every alert; "down" is being retried.
        log.wait_for(lambda rs: len([r for r in outcomes(rs, "retry") if r["attempt"] >= 2]) >= 3
                     and len(outcomes(rs, "delivered")) == 3)
        # Kill only once the three final outcomes reached the changelog: a kill between a delivery and its
        # changelog record re-sends that delivery with the same Idempotency-Key (by design, see the README), which
        # would make the count below depend on timing.
        changelog = Reader(env["kafka"], env["settings"]["delivered_topic"], decode=False)
        changelog.wait_for(lambda rs: len(rs) >= 3)
        changelog.close()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = subprocess.Popen(args, env=process_env, stderr=subprocess.DEVNULL)
        # The restarted service re-read the alerts: "up" deduplicated from the changelog, "down" retried again.
        log.wait_for(lambda rs: len(outcomes(rs, "deduplicated")) == 3, timeout_s=45)
        down.start()
        records = log.wait_for(lambda rs: len(outcomes(rs, "delivered")) == 6)
        log.settle(1.5)
    finally:
        for process in (first, second):
            if process and process.poll() is None:
                process.terminate()
                process.wait(30)
        up.stop()
        down.stop()
        log.close()
    assert second.returncode == 0  # SIGTERM is a graceful stop
    assert sorted(up.keys()) == sorted(down.keys()) == ["a-0", "a-1", "a-2"]  # exactly once per key and receiver
    assert all(r.verified for r in up.requests + down.requests)
    assert {r["recipient"] for r in outcomes(records, "deduplicated")} == {"up"}
    assert len(outcomes(records, "delivered")) == 6


def test_a_long_receiver_outage_is_ridden_out_and_logged_sparingly(env):
    """The receiver is down for 60 s (the old 15 attempts / 10 s cap gave up after ~71 s; here the back-off is
    capped at 5 s, so 15 attempts would be spent in ~50 s): a time budget keeps retrying, every alert arrives
    once after the receiver returns, and the log holds a retry record per alert per 20 s, not one per attempt."""
    from cxpulse_notification import metrics

    port = free_port()
    service = Service(env, write_routes(env["tmp"] / "r.yaml", f"http://127.0.0.1:{port}/hook"),
                      max_attempts=0, retry_budget_s=600, backoff_initial_s=0.5, backoff_max_s=5,
                      retry_log_interval_s=20)
    log = Reader(env["kafka"], env["settings"]["log_topic"])
    receiver = WebhookReceiver(SECRET, port)
    retried = metrics.RETRIED.labels(metrics.SERVICE, "webhook")
    retried_before = retried._value.get()
    alerts = [f"out-{i}" for i in range(20)]
    try:
        send(env, *(alert(a, contact=f"c-{i}") for i, a in enumerate(alerts)))
        log.wait_for(lambda rs: len({r["alert_id"] for r in outcomes(rs, "retry")}) == 20)
        log.settle(60.0)  # the outage
        receiver.start()
        records = log.wait_for(lambda rs: len(outcomes(rs, "delivered")) == 20, timeout_s=60)
        log.settle(1.0)
    finally:
        service.stop()
        receiver.stop()
        log.close()
    assert sorted(receiver.keys()) == sorted(alerts)  # all delivered, none twice
    assert not outcomes(records, "failed")
    attempts = retried._value.get() - retried_before
    logged = len(outcomes(records, "retry"))
    assert attempts >= 20 * 10  # it really kept trying (5 s cap over 60 s)
    assert logged <= 20 * 5 and logged < attempts / 2  # first failure + one per 20 s, not one per attempt


def test_redrive_delivers_dead_letters_once_after_the_receiver_is_fixed(env):
    up, down_port = WebhookReceiver(SECRET).start(), free_port()
    routes = up_and_down_routes(env["tmp"], up, down_port)
    service = Service(env, routes, max_attempts=0, retry_budget_s=1.5)
    log = Reader(env["kafka"], env["settings"]["log_topic"])
    down = WebhookReceiver(SECRET, down_port)
    alerts = ["r-0", "r-1", "r-2"]
    group = unique_name("redrive")
    try:
        send(env, *(alert(a, contact=f"c-{i}") for i, a in enumerate(alerts)))
        log.wait_for(lambda rs: len(outcomes(rs, "failed")) == 3 and len(outcomes(rs, "delivered")) == 3)
        down.start()
        # The command as an operator runs it, against the same broker and topics.
        command = subprocess.run(
            [sys.executable, "-m", "cxpulse_core.cli", "redrive", "notification"], capture_output=True, text=True,
            timeout=120, env=os.environ | {"KAFKA_BOOTSTRAP_SERVERS": env["kafka"].bootstrap_servers,
                                           "NOTIFICATION_DEADLETTER_TOPIC": env["settings"]["deadletter_topic"],
                                           "NOTIFICATION_REDRIVE_GROUP_ID": group})
        assert command.returncode == 0, command.stderr
        assert json.loads(command.stdout.splitlines()[-1])["redriven"] == 3
        log.wait_for(lambda rs: len(outcomes(rs, "delivered")) == 6)
        from cxpulse_notification.redrive import redrive

        again = redrive(env["kafka"], env["settings"]["deadletter_topic"], group, {"retries_exhausted"})
        assert "redriven" not in again  # the group remembers what was redriven
        # Redriving everything once more is harmless: the service deduplicates what was delivered.
        everything = redrive(env["kafka"], env["settings"]["deadletter_topic"], group, {"retries_exhausted"},
                             from_beginning=True)
        assert everything["redriven"] == 3
        records = log.wait_for(lambda rs: len(outcomes(rs, "deduplicated")) == 6)
        log.settle(1.0)
    finally:
        service.stop()
        up.stop()
        down.stop()
        log.close()
    assert sorted(up.keys()) == sorted(down.keys()) == alerts  # once per receiver
    assert len(outcomes(records, "delivered")) == 6 and len(outcomes(records, "failed")) == 3


def test_rate_limit_windows_survive_a_restart(env):
    receiver = WebhookReceiver(SECRET).start()
    routes = write_routes(env["tmp"] / "r.yaml", receiver.url())
    limits = {"contact_rate_per_min": 0.01, "contact_burst": 2}
    log = Reader(env["kafka"], env["settings"]["log_topic"])
    first = Service(env, routes, **limits)
    second = None
    try:
        send(env, alert("rl-1"), alert("rl-2"))  # one contact: the burst of 2 is used up
        log.wait_for(lambda rs: len(outcomes(rs, "delivered")) == 2)
        first.stop()
        second = Service(env, routes, **limits)
        send(env, alert("rl-3"))
        records = log.wait_for(lambda rs: len(outcomes(rs, "rate_limited")) == 1)
        log.settle(1.0)
    finally:
        if second:
            second.stop()
        receiver.stop()
        log.close()
    assert sorted(receiver.keys()) == ["rl-1", "rl-2"]  # no fresh burst for the restarted service
    assert [r["alert_id"] for r in outcomes(records, "rate_limited")] == ["rl-3"]


# The one slow test of the suite (~5.5 min, almost all of it waiting): the "receiver down 5 minutes".
OUTAGE_S = 300.0


@pytest.mark.timeout(OUTAGE_S + 300)
def test_receiver_down_five_minutes_with_shipped_defaults_gets_every_alert_once(env):
    """SLOW (5 min outage, by design). The service as a process with the shipped retry settings (budget, back-off,
    log interval: only topics, group and routes are set here). The receiver's port is held closed for 5 minutes
    while alerts keep arriving (a round every 30 s); then the real signed receiver starts on it, and every alert
    must arrive exactly once, counted by its event id (the Idempotency-Key), none failed or dead-lettered."""
    shipped = {name: field.default for name, field in NotificationSettings.model_fields.items()}
    assert shipped["retry_budget_s"] >= 1800 and shipped["max_attempts"] == 0  # the "≥ 30 min", time alone
    hold = socket.socket()  # keeps the port ours, and closed (connection refused), for the whole outage
    hold.bind(("127.0.0.1", 0))
    port = hold.getsockname()[1]
    routes = write_routes(env["tmp"] / "r.yaml", f"http://127.0.0.1:{port}/hook")
    names = ("alerts_topic", "escalations_topic", "log_topic", "deadletter_topic", "delivered_topic", "group_id")
    overridden = {f"NOTIFICATION_{k.upper()}" for k in NotificationSettings.model_fields}
    process_env = {k: v for k, v in os.environ.items() if k not in overridden} | {
        f"NOTIFICATION_{k.upper()}": str(env["settings"][k]) for k in names} | {
        "NOTIFICATION_ROUTES_FILE": str(routes), "IT_SECRET": SECRET, "CXPULSE_HTTP_PORT": "0",
        "KAFKA_BOOTSTRAP_SERVERS": env["kafka"].bootstrap_servers}
    log = Reader(env["kafka"], env["settings"]["log_topic"])
    dead = Reader(env["kafka"], env["settings"]["deadletter_topic"], decode=False)
    receiver = WebhookReceiver(SECRET, port)
    service = subprocess.Popen([sys.executable, "-m", "cxpulse_notification"], env=process_env,
                               stderr=subprocess.DEVNULL)
    alerts: list[str] = []
    try:
        outage_end = None
        for round_ in range(int(OUTAGE_S // 30)):
            batch = [f"long-{round_}-{i}" for i in range(3)]
            send(env, *(alert(a, contact=f"c-{round_}-{i}") for i, a in enumerate(batch)))
            alerts += batch
            # Each alert was really attempted and failed (the first failure is always logged).
            log.wait_for(lambda rs, batch=batch: set(batch) <= {r["alert_id"] for r in outcomes(rs, "retry")},
                         timeout_s=90)
            outage_end = outage_end or time.monotonic() + OUTAGE_S  # from the first failed attempt
            log.settle(max(0.0, min(30.0, outage_end - time.monotonic())))
        log.settle(max(0.0, outage_end - time.monotonic()))  # the rest of the 5 minutes
        assert not outcomes(log.records, "delivered", "failed")  # nothing got through or gave up meanwhile
        hold.close()
        receiver.start()
        records = log.wait_for(lambda rs: len(outcomes(rs, "delivered")) == len(alerts), timeout_s=180)
        log.settle(2.0)  # room for a duplicate to show up, were there one
        dead.settle(0.5)
    finally:
        if service.poll() is None:
            service.terminate()
            service.wait(60)
        hold.close()
        receiver.stop()
        log.close()
        dead.close()
    assert service.returncode == 0
    assert sorted(receiver.keys()) == sorted(alerts) and len(alerts) == 30  # every alert, none twice
    assert all(r.verified for r in receiver.requests)
    assert not outcomes(records, "failed") and not dead.records
    first = {r["alert_id"]: r for r in outcomes(records, "delivered")}["long-0-0"]
    assert first["attempt"] >= 5  # it kept trying through the outage (back-off capped at 60 s: ≥ 10 in 300 s)
