"""Run every cxpulse service as its own process against one broker: start, wait until ready, stop."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SERVICES = ("ingest", "sentiment", "churn", "routing", "notification", "insights")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ServiceProcess:
    name: str
    port: int
    process: subprocess.Popen
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1) as reply:
                return reply.status == 200
        except OSError:
            return False

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2) as reply:
            return reply.read().decode()


@dataclass
class Pipeline:
    bootstrap: str
    log_dir: Path
    topic_prefix: str = ""
    base_port: int = 8001  # services get base_port, base_port + 1, ...; 0 picks free ports
    env: dict[str, str] = field(default_factory=dict)  # extra settings for every service
    services: tuple[str, ...] = SERVICES
    python: str = sys.executable  # the interpreter of the venv the services are installed in
    running: list[ServiceProcess] = field(default_factory=list)

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for offset, name in enumerate(self.services):
            port = self.base_port + offset if self.base_port else _free_port()
            env = os.environ | {"CXPULSE_TOPIC_PREFIX": self.topic_prefix} | self.env | {
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "CXPULSE_HTTP_PORT": str(port),
                "CXPULSE_INSTANCE_ID": f"{name}-{port}"}
            log = self.log_dir / f"{name}.log"
            self.running.append(ServiceProcess(name, port, _spawn(self.python, name, env, log, "w"), log, env))

    def kill_and_restart(self, name: str, timeout_s: float = 120.0) -> float | None:
        """kill -9 one service and start it again with the same settings on its existing state; returns the
        seconds from the restart until /readyz answered 200 (None if it did not within the timeout)."""
        service = next(s for s in self.running if s.name == name)
        service.process.kill()
        service.process.wait(30)
        started = time.monotonic()
        service.process = _spawn(self.python, name, service.env, service.log, "a")
        while time.monotonic() - started < timeout_s:
            if service.process.poll() is not None:
                raise RuntimeError(f"{name} exited ({service.process.returncode}) after a restart; see {service.log}")
            if service.ready():
                return time.monotonic() - started
            time.sleep(0.1)
        return None

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        pending = list(self.running)
        while pending:
            for service in list(pending):
                if service.process.poll() is not None:
                    tail = service.log.read_text()[-2000:]
                    raise RuntimeError(f"{service.name} exited with {service.process.returncode}:\n{tail}")
                if service.ready():
                    pending.remove(service)
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout_s:.0f}s: {[s.name for s in pending]}")
            time.sleep(0.25)

    def check_alive(self) -> None:
        for service in self.running:
            if service.process.poll() is not None:
                raise RuntimeError(f"{service.name} exited with {service.process.returncode}; see {service.log}")

    def stop(self, timeout_s: float = 30.0) -> dict[str, int | None]:
        for service in self.running:
            if service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        codes = {}
        for service in self.running:
            try:
                codes[service.name] = service.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                service.process.kill()
                codes[service.name] = service.process.wait()
        self.running.clear()
        return codes

    def __enter__(self) -> Pipeline:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _spawn(python: str, name: str, env: dict[str, str], log: Path, mode: str) -> subprocess.Popen:
    with log.open(mode) as handle:
        return subprocess.Popen([python, "-m", "cxpulse_core.cli", "run", name], env=env, stdout=handle,
                                stderr=subprocess.STDOUT)


def isolated_env(prefix: str, data_dir: Path) -> dict[str, str]:
    """Settings that keep one pipeline apart from any other on the same broker (tests, benchmarks): its own topic
    namespace, consumer groups, faust app ids (and so changelog topics) and working folders."""
    return {
        "CXPULSE_TOPIC_PREFIX": prefix,
        "INGEST_GROUP_ID": f"{prefix}ingest",
        "SENTIMENT_GROUP_ID": f"{prefix}sentiment",
        "NOTIFICATION_GROUP_ID": f"{prefix}notification",
        "ROUTING_APP_ID": f"{prefix}routing",
        "CHURN_APP_ID": f"{prefix}churn-scoring",
        "ROUTING_DATA_DIR": str(data_dir / "routing"),
        "CHURN_DATA_DIR": str(data_dir / "churn"),
        "INSIGHTS_WEB_PORT": "0",
        "INSIGHTS_AUTH_TOKEN": secrets.token_urlsafe(24),  # the dashboard always needs credentials; none read it
    }


def webhook_routes_file(work: Path, port: int) -> Path:
    """A notification routes file sending every alert to one signed webhook on 127.0.0.1:`port` (benchmarks)."""
    routes = work / "routes.yaml"
    routes.write_text(yaml.safe_dump({
        "recipients": {"supervisors": {"type": "webhook", "url": f"http://127.0.0.1:{port}/hooks",
                                       "secret_env": "CXPULSE_WEBHOOK_SECRET"}},
        "routes": [{"name": "all", "match": {}, "notify": ["supervisors"]}]}))
    return routes
