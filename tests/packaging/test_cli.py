"""The `cxpulse` command as the packages register it (entry points): every subcommand there was before the split
is still there, `run`/`train`/`evaluate`/`redrive` list what is installed, and `cxpulse run <service> --help`
prints the service's help and exits 0 instead of starting it (no broker runs here: a start would hang or fail)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cxpulse_core.cli import registered

COMMANDS = {"run", "topics", "schemas", "produce", "tail", "score", "embed-phrases", "train", "evaluate", "simulate",
            "demo", "bench", "redrive"}
SERVICES = {"ingest", "sentiment", "churn", "churn-scoring", "routing", "notification", "insights"}


def cxpulse(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cxpulse_core.cli", *args], capture_output=True, text=True,
                          timeout=120, env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PATH": ""})


def test_every_subcommand_is_registered_with_its_help() -> None:
    assert set(registered("cxpulse.commands")) == COMMANDS
    done = cxpulse("--help")
    assert done.returncode == 0
    listed = {line.split()[0]: line.split(None, 1)[1] for line in done.stdout.splitlines()[3:] if line.strip()}
    assert set(listed) == COMMANDS and all(listed.values()), done.stdout


def test_the_dispatchers_list_what_is_installed() -> None:
    assert set(registered("cxpulse.services")) == SERVICES
    assert set(registered("cxpulse.train")) == set(registered("cxpulse.evaluate")) == {"sentiment", "churn"}
    assert set(registered("cxpulse.redrive")) == {"notification"}
    done = cxpulse("run", "nosuch")
    assert done.returncode == 2 and all(name in done.stderr for name in SERVICES), done.stderr
    assert cxpulse("frobnicate").returncode == 2


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_run_service_help_prints_help_and_starts_nothing(service: str) -> None:
    done = cxpulse("run", service, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: cxpulse run {service.removesuffix('-scoring')}")
    assert "KAFKA_BOOTSTRAP_SERVERS" in done.stdout
    assert "started" not in done.stdout + done.stderr
