"""Run every cxpulse service as its own process against one broker: start, wait until ready, stop."""

from __future__ import annotations

import secrets
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cxpulse_core.memory import ALLOCATOR_ENV
from cxpulse_core.testing.net import free_port
from cxpulse_core.testing.process import ServiceProcess

SERVICES = ("ingest", "sentiment", "churn", "routing", "notification", "insights")


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
        """Launches every service side by side (wait_ready() waits for them)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for offset, name in enumerate(self.services):
            port = self.base_port + offset if self.base_port else free_port()
            env = ALLOCATOR_ENV | {"CXPULSE_TOPIC_PREFIX": self.topic_prefix} | self.env | {
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "CXPULSE_INSTANCE_ID": f"{name}-{port}"}
            command = [self.python, "-m", "cxpulse_core.cli", "run", name]  # what `cxpulse run <name>` runs
            service = ServiceProcess(f"cxpulse_{name}", env, self.log_dir / f"{name}.log", port, name, command)
            self.running.append(service.launch())

    def kill_and_restart(self, name: str, timeout_s: float = 120.0) -> float | None:
        """kill -9 one service and start it again with the same settings on its existing state; returns the
        seconds from the restart until /readyz answered 200 (None if it did not within the timeout)."""
        service = next(s for s in self.running if s.name == name)
        try:
            return service.kill_and_restart(timeout_s)
        except AssertionError as exc:
            if not service.running:
                raise RuntimeError(f"{name} exited after a restart: {exc}") from None
            return None

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        for service in self.running:
            try:
                service.wait_ready(max(0.0, deadline - time.monotonic()))
            except AssertionError as exc:
                raise RuntimeError(str(exc)) from None

    def check_alive(self) -> None:
        for service in self.running:
            if not service.running:
                raise RuntimeError(f"{service.name} exited with {service.returncode}; see {service.log}")

    def stop(self, timeout_s: float = 30.0) -> dict[str, int | None]:
        for service in self.running:  # all at once, then each waited for
            service.signal(signal.SIGTERM)
        codes: dict[str, int | None] = {service.name: service.wait(timeout_s) for service in self.running}
        self.running.clear()
        return codes

    def __enter__(self) -> Pipeline:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


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
