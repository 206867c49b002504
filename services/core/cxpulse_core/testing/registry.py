"""Where tests get a real Schema Registry: SCHEMA_REGISTRY_URL if set, else a local Apicurio Registry
(deploy/registry/registry.sh: in memory, Confluent-compatible API) started once per test session on a free port."""

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


@contextmanager
def local_registry(port: int | None = None) -> Iterator[str]:
    port = port or free_port()
    script = schema_dir().parent / "deploy" / "registry" / "registry.sh"
    data = Path(tempfile.mkdtemp(prefix="cxpulse-test-registry-"))
    env = os.environ | {"REGISTRY_PORT": str(port), "REGISTRY_DATA_DIR": str(data)}
    subprocess.run([str(script), "up"], env=env, check=True)
    try:
        yield subprocess.run([str(script), "url"], env=env, check=True, capture_output=True,
                             text=True).stdout.strip()
    finally:
        subprocess.run([str(script), "down"], env=env, check=False)
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def test_registry() -> Iterator[str]:
    if url := os.environ.get("SCHEMA_REGISTRY_URL"):
        yield url
    else:
        with local_registry() as url:
            yield url
