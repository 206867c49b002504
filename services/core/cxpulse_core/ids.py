"""Deterministic event ids: an output derived from an input gets the same id every time it is recomputed, so a
replay after a crash is a duplicate that consumers drop, not a new event."""

from __future__ import annotations

import time
import uuid

NAMESPACE = uuid.UUID("6f1d8f8e-3f0b-4a39-9f59-3f7f2b1c9a51")


def derived_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def now_ms() -> int:
    return int(time.time() * 1000)
