"""Each service installs on its own and starts: an EMPTY venv gets exactly what its Dockerfile installs,
`pip install -c requirements.lock ./services/core ./services/<name>` (through uv, pinned in requirements.lock, for
speed; wheels come from the package index or uv's cache, at install time only), and then
- `python -m cxpulse_<name> --help` prints the service's help and exits 0 without starting it;
- the venv has no lab and no test tools (so the service cannot need them);
- the service started from that venv (`python -m cxpulse_core.cli run <name>`) reaches /readyz on the test broker.
This is what proves that each pyproject.toml declares the service's real runtime dependencies."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from uv import find_uv_bin

from cxpulse_lab.sim.pipeline import Pipeline, isolated_env, webhook_routes_file

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {"ingest": "cxpulse_ingest", "sentiment": "cxpulse_sentiment", "churn": "cxpulse_churn",
            "routing": "cxpulse_routing", "notification": "cxpulse_notification", "insights": "cxpulse_insights"}
NOT_IN_A_SERVICE = ("cxpulse_lab", "pytest", "hypothesis", "sklearn", "matplotlib", "torch", "importlinter")


def _uv(*args: str | Path, timeout_s: float = 900) -> None:
    env = os.environ | {"UV_LINK_MODE": "copy", "UV_NO_PROGRESS": "1"}  # the cache may be on another filesystem
    done = subprocess.run([find_uv_bin(), *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout_s,
                          cwd=REPO)
    assert done.returncode == 0, f"uv {' '.join(map(str, args))}:\n{done.stdout}\n{done.stderr}"


class Venvs:
    """One venv per service for the whole session, built on first use (a lock: tests may ask concurrently)."""

    def __init__(self, root: Path) -> None:
        self.root, self.built, self.lock = root, {}, threading.Lock()

    def python(self, name: str) -> Path:
        with self.lock:
            if name not in self.built:
                venv = self.root / name
                _uv("venv", "--quiet", "--python", sys.executable, venv)
                python = venv / "bin" / "python"
                _uv("pip", "install", "--quiet", "--python", python, "-c", "requirements.lock",
                    "./services/core", f"./services/{name}")
                self.built[name] = python
            return self.built[name]


@pytest.fixture(scope="session")
def venvs(tmp_path_factory: pytest.TempPathFactory) -> Venvs:
    return Venvs(tmp_path_factory.mktemp("service-venvs"))


@pytest.mark.parametrize("name", PACKAGES)
def test_the_service_alone_prints_its_help_and_has_no_lab_or_test_tools(venvs: Venvs, name: str) -> None:
    python = venvs.python(name)
    helped = subprocess.run([python, "-m", PACKAGES[name], "--help"], capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith(f"usage: cxpulse run {name}") and "KAFKA_BOOTSTRAP_SERVERS" in helped.stdout
    found = subprocess.run([python, "-c", "import importlib.util as u, sys; "
                            "print(*[m for m in sys.argv[1:] if u.find_spec(m)])", *NOT_IN_A_SERVICE],
                           capture_output=True, text=True, timeout=60, check=True)
    assert found.stdout.split() == [], f"the {name} venv has {found.stdout.split()}"


@pytest.mark.kafka
@pytest.mark.parametrize("name", PACKAGES)
def test_the_service_alone_starts_and_gets_ready(venvs: Venvs, name: str, kafka_settings, cx_runtime, tmp_path) -> None:
    python = venvs.python(name)
    secret = "install-test-secret"
    env = isolated_env(cx_runtime.topic_prefix, tmp_path) | {
        "CXPULSE_WEBHOOK_SECRET": secret, "NOTIFICATION_ROUTES_FILE": str(webhook_routes_file(tmp_path, 9)),
        "CXPULSE_LOG_LEVEL": "WARNING", "CXPULSE_SCHEMA_DIR": str(REPO / "schemas")}  # as the Dockerfiles set it
    pipeline = Pipeline(kafka_settings.bootstrap_servers, tmp_path / "logs", cx_runtime.topic_prefix, base_port=0,
                        env=env, services=(name,), python=str(python))
    try:
        pipeline.start()
        pipeline.wait_ready(180)  # raises with the log's tail if the process exits (a missing module, say)
    finally:
        codes = pipeline.stop()
    assert codes == {name: 0}, (tmp_path / "logs" / f"{name}.log").read_text()[-3000:]  # and stops cleanly
