"""`cxpulse demo` (make demo): the whole pipeline on realistic simulated traffic, a live console, and a final
report read back from the topics (out/demo/report.json). Stops everything it started unless --keep-running."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cxpulse_core.ids import now_ms
from cxpulse_core.schemas import schema_dir
from cxpulse_core.serde import make_serde
from cxpulse_core.settings import KafkaSettings, RuntimeSettings
from cxpulse_core.testing.receivers import MailSink, WebhookReceiver
from cxpulse_core.topics import create_topics, load_topics

from . import report
from .pipeline import SERVICES, Pipeline
from .scenario import generate
from .simulate import produce_events
from .watch import PipelineWatch

KAFKA_SH = schema_dir().parent / "deploy" / "kafka" / "kafka.sh"


def _local_broker() -> tuple[str, bool]:
    """The broker to use, and whether this run started it (and so must stop it)."""
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return servers, False
    running = subprocess.run([str(KAFKA_SH), "status"], capture_output=True).returncode == 0
    if not running:
        subprocess.run([str(KAFKA_SH), "up"], check=True)
    return f"127.0.0.1:{os.environ.get('KAFKA_PORT', '9092')}", not running


def _drain(watch: PipelineWatch, quiet_s: float = 6.0, max_s: float = 60.0) -> None:
    """Waits until no new record has arrived for quiet_s (the pipeline caught up), at most max_s."""
    deadline, last, still = time.monotonic() + max_s, -1, time.monotonic()
    while time.monotonic() < deadline:
        total = sum(watch.counts.values())
        if total != last:
            last, still = total, time.monotonic()
        elif time.monotonic() - still >= quiet_s:
            return
        time.sleep(0.5)


@dataclass(frozen=True)
class DashboardLogin:
    env: dict[str, str]
    how: str


def _dashboard_login(out: Path) -> DashboardLogin:
    """The dashboard needs credentials: the user's own (INSIGHTS_AUTH_USERS / INSIGHTS_AUTH_TOKEN) or, for the demo,
    a fresh `supervisor` password written to a file only this user can read (never printed or logged)."""
    if os.environ.get("INSIGHTS_AUTH_USERS") or os.environ.get("INSIGHTS_AUTH_TOKEN"):
        return DashboardLogin({}, "log in with a user of INSIGHTS_AUTH_USERS, or send INSIGHTS_AUTH_TOKEN as a bearer "
                                  "token")
    password = secrets.token_urlsafe(12)
    path = out / "dashboard-login.txt"
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(f"user: supervisor\npassword: {password}\n")
    return DashboardLogin({"INSIGHTS_AUTH_USERS": f"supervisor:{password}"},
                          f"log in as supervisor, password in {path}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bootstrap, started_broker = _local_broker()
    kafka, runtime = KafkaSettings(bootstrap_servers=bootstrap), RuntimeSettings()
    create_topics(kafka, load_topics(), runtime.topic_prefix)
    secret = os.environ.get("CXPULSE_WEBHOOK_SECRET") or secrets.token_hex(16)
    # The supervisors' side on their usual ports: routes.example.yaml's webhooks on 9099, e-mail on 2525.
    webhook, mail = WebhookReceiver(secret, port=9099).start(), MailSink(port=2525).start()
    login = _dashboard_login(out)
    pipeline = Pipeline(bootstrap, out / "logs", services=tuple(args.services.split(",")),
                        env={"CXPULSE_WEBHOOK_SECRET": secret, "NOTIFICATION_SMTP_PORT": str(mail.port)} | login.env)
    since = now_ms()
    watch = PipelineWatch(kafka, runtime, make_serde(), since).start()
    try:
        print(f"cxpulse demo: broker {bootstrap}; starting {', '.join(pipeline.services)} ...", flush=True)
        pipeline.start()
        pipeline.wait_ready()
        for service in pipeline.running:
            print(f"  {service.name:<13} http://127.0.0.1:{service.port}/metrics   log {service.log}")
        if "insights" in pipeline.services:
            print(f"supervisor dashboard: http://127.0.0.1:{os.environ.get('INSIGHTS_WEB_PORT', '8080')}/ "
                  f"({login.how})", flush=True)
        # Contact (and so event) ids carry this run's tag: a broker that saw an earlier demo would otherwise drop
        # this run's events as duplicates of that one's.
        tag = format(since // 1000 % 36 ** 5, "x")
        events = [replace(e, contact_id=f"{e.contact_id}-{tag}")
                  for e in generate(seed=args.seed, rate=args.rate, duration_s=args.duration)]
        produced: dict[str, Any] = {}
        producer = threading.Thread(target=lambda: produced.update(produce_events(events, kafka, runtime)),
                                    daemon=True)
        started = time.monotonic()
        producer.start()
        while producer.is_alive():
            producer.join(args.console_every)
            pipeline.check_alive()
            print(report.console_line(watch, time.monotonic() - started), flush=True)
        print("simulator done; waiting for the pipeline to drain ...", flush=True)
        _drain(watch)
        print(report.console_line(watch, time.monotonic() - started), flush=True)
        meta = {"seed": args.seed, "rate_utterances_per_s": args.rate, "duration_s": args.duration,
                "broker": bootstrap, "simulator": produced, "since_ms": since, "finished_ms": now_ms()}
        result = report.build(watch, meta)
        result["receivers"] = {"webhooks_verified": len(webhook.received), "webhooks_bad_signature": webhook.rejected,
                               "webhook_duplicates_dropped": webhook.duplicates, "emails": len(mail.messages)}
        (out / "report.json").write_text(json.dumps(result, indent=2))
        print(report.render(result))
        print(f"\nreport: {out / 'report.json'}")
        return result
    finally:
        watch.stop()
        if args.keep_running:
            print("--keep-running: services and broker left running; stop them with make kafka-down and kill")
        else:
            pipeline.stop()
            webhook.stop()
            mail.stop()
            if started_broker:
                subprocess.run([str(KAFKA_SH), "down"], check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cxpulse demo", description=__doc__)
    parser.add_argument("--duration", type=float, default=90.0, help="seconds of simulated traffic")
    parser.add_argument("--rate", type=float, default=20.0, help="utterances per second")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default="out/demo")
    parser.add_argument("--console-every", type=float, default=5.0, help="seconds between console lines")
    parser.add_argument("--services", default=",".join(SERVICES), help="which services to start")
    parser.add_argument("--keep-running", action="store_true", help="leave the services and broker running")
    run(parser.parse_args(argv))
    return 0
