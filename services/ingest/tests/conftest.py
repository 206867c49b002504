"""The Avro contracts, parsed once for the ingest tests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ingest_testdata import REPO_ROOT


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
