"""Log lines that repeat while a dependency is down (a broker outage makes clients log the same connection error
many times a second) pass once per interval, with back-off: the interval doubles from `first_s` up to `max_s` while
the line keeps coming and starts over after a quiet spell. What was held back is counted in
cxpulse_log_suppressed_total and carried by the next line that passes (`suppressed`)."""

from __future__ import annotations

import logging
import threading
import time

from . import metrics

LOG_SUPPRESSED = metrics.counter("log_suppressed", "Repeated warning/error log lines held back by the throttle.",
                                 ("logger",))


class _Kind:
    __slots__ = ("interval", "last_pass", "last_seen", "suppressed")

    def __init__(self, now: float, interval: float) -> None:
        self.interval, self.last_pass, self.last_seen, self.suppressed = interval, now, now, 0


class LogThrottle(logging.Filter):
    """A handler filter: records of the same logger, level and message template are one kind."""

    def __init__(self, service: str = "", first_s: float = 1.0, max_s: float = 60.0) -> None:
        super().__init__()
        self.service, self.first_s, self.max_s = service, first_s, max_s
        self._kinds: dict[tuple[str, int, str], _Kind] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, str(record.msg)[:80])
        now = time.monotonic()
        with self._lock:
            kind = self._kinds.get(key)
            if kind is None or now - kind.last_seen > 2 * self.max_s:  # new, or quiet for long: start over
                if len(self._kinds) > 10_000:
                    self._kinds.clear()
                self._kinds[key] = _Kind(now, self.first_s)
                return True
            kind.last_seen = now
            if now - kind.last_pass < kind.interval:
                kind.suppressed += 1
                metrics.child(LOG_SUPPRESSED, self.service, record.name).inc()
                return False
            record.suppressed = kind.suppressed  # shown as a field by the JSON formatter
            kind.suppressed, kind.last_pass = 0, now
            kind.interval = min(self.max_s, kind.interval * 2)
            return True
