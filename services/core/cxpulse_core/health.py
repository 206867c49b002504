"""Liveness means the poll loop is making progress; readiness means partitions are assigned."""

from __future__ import annotations

import time


class Health:
    def __init__(self, liveness_timeout_s: float) -> None:
        self.liveness_timeout_s = liveness_timeout_s
        self._last_beat = time.monotonic()
        self.ready = False
        self.fatal: str | None = None

    def beat(self) -> None:
        self._last_beat = time.monotonic()

    @property
    def live(self) -> bool:
        return self.fatal is None and time.monotonic() - self._last_beat < self.liveness_timeout_s
