"""Where tests get a real broker: KAFKA_BOOTSTRAP_SERVERS if set, else testcontainers' Kafka if a Docker
engine answers, else the local KRaft broker (deploy/kafka/kafka.sh) started once per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..schemas import schema_dir
from .net import free_port


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - no engine, no socket, no permission: all mean "no Docker"
        return False


class LocalBroker:
    """A local KRaft broker (deploy/kafka/kafka.sh) on free ports and its own data dir. stop() and start() keep
    the port and the data, so a fault test can take the broker away and bring the same one back."""

    def __init__(self, port: int | None = None) -> None:
        # Free ports, so a broker left over by a killed test run (or `make kafka-up`) is never in the way.
        self.port = port or free_port()
        self.script = schema_dir().parent / "deploy" / "kafka" / "kafka.sh"
        self.data = Path(tempfile.mkdtemp(prefix="cxpulse-test-kafka-"))
        self.env = os.environ | {"KAFKA_PORT": str(self.port), "KAFKA_CONTROLLER_PORT": str(free_port()),
                                 "KAFKA_DATA_DIR": str(self.data)}

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        subprocess.run([str(self.script), "up"], env=self.env, check=True, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        subprocess.run([str(self.script), "down"], env=self.env, check=False, stdout=subprocess.DEVNULL)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)


@contextmanager
def local_broker(port: int | None = None) -> Iterator[str]:
    broker = LocalBroker(port)
    broker.start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.remove()


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
