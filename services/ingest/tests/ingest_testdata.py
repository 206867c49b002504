"""Paths and loaders shared by the ingest tests (a plain module: pytest runs with --import-mode=importlib,
under which tests cannot import conftest)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SERVICE_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = SERVICE_DIR.parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_contact_lens(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "contact_lens" / name).read_text())


def raw_examples() -> list[dict[str, Any]]:
    lines = (REPO_ROOT / "schemas" / "raw" / "examples.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]
