"""Liveness means the poll loop is making progress; readiness means partitions are assigned (state restored) and
the broker answers: a service cut off from Kafka processes nothing, so /readyz says 503 until it is back."""

from __future__ import annotations

import time


class Health:
    def __init__(self, liveness_timeout_s: float) -> None:
        self.liveness_timeout_s = liveness_timeout_s
        self._last_beat = time.monotonic()
        self._assigned = False
        self.broker_reachable = True  # kept up to date by a BrokerWatch where one runs
        self.fatal: str | None = None

    @property
    def ready(self) -> bool:
        return self._assigned and self.broker_reachable

    @ready.setter
    def ready(self, value: bool) -> None:
        """What the service says: partitions assigned, state restored, processing."""
        self._assigned = value

    def beat(self) -> None:
        self._last_beat = time.monotonic()

    @property
    def live(self) -> bool:
        return self.fatal is None and time.monotonic() - self._last_beat < self.liveness_timeout_s
