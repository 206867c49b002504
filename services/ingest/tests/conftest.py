"""Make cxpulse_ingest and the shared test helpers importable without installing, and parse the Avro
contracts once."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

_TESTS_DIR = Path(__file__).resolve().parent
for path in (str(_TESTS_DIR.parent), str(_TESTS_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)

from ingest_testdata import REPO_ROOT  # noqa: E402


@pytest.fixture(scope="session")
def avro_schemas() -> dict[str, Any]:
    """Parsed interaction schemas by full name, for checking outputs against the real contracts."""
    fastavro = pytest.importorskip("fastavro")
    named: dict[str, Any] = {}
    fastavro.parse_schema(json.loads((REPO_ROOT / "schemas/common/Speaker.avsc").read_text()), named)
    parsed = {}
    for name in ("ContactStarted", "Utterance", "ContactEnded"):
        path = REPO_ROOT / "schemas/interaction" / f"{name}.avsc"
        parsed[f"io.cxpulse.interaction.{name}"] = fastavro.parse_schema(json.loads(path.read_text()), named)
    return parsed
