"""Where tests get a real broker: KAFKA_BOOTSTRAP_SERVERS if set, else testcontainers' Kafka if a Docker
engine answers, else the local KRaft broker (deploy/kafka/kafka.sh) started once per test session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..schemas import schema_dir


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - no engine, no socket, no permission: all mean "no Docker"
        return False


@contextmanager
def local_broker(port: int | None = None) -> Iterator[str]:
    # Free ports, so a broker left over by a killed test run (or `make kafka-up`) is never in the way.
    port = port or _free_port()
    script = schema_dir().parent / "deploy" / "kafka" / "kafka.sh"
    data = Path(tempfile.mkdtemp(prefix="cxpulse-test-kafka-"))
    env = os.environ | {"KAFKA_PORT": str(port), "KAFKA_CONTROLLER_PORT": str(_free_port()),
                        "KAFKA_DATA_DIR": str(data)}
    subprocess.run([str(script), "up"], env=env, check=True)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(script), "down"], env=env, check=False)
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def test_broker() -> Iterator[str]:
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
    elif _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("confluentinc/cp-kafka:7.9.0").with_kraft() as container:
            yield container.get_bootstrap_server()
    else:
        with local_broker() as servers:
            yield servers
