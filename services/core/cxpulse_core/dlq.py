"""Dead letters: the original (or, where a handler says so, redacted) bytes and key, with the reason and the source
position in headers; and a watch on the share of bad input that raises an alert on a flood (and stops the service
only where that is explicitly configured)."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

from . import metrics

log = logging.getLogger(__name__)

HEADER_PREFIX = "cxpulse.error."


class DeadLetterLimitError(RuntimeError):
    """Too many rejected records in the recent window: something upstream is broken."""


@dataclass(frozen=True)
class Reject:
    """A handler's verdict that an input is bad: it goes to the dead-letter topic with this reason."""

    reason: str  # short code, e.g. missing_field, invalid_json, decode_error
    detail: str  # which field, what was wrong (never the offending PII itself)
    error_class: str = "ValidationError"


# Header values are bounded: a reason or detail is a short code or sentence, never a payload.
_MAX_HEADER_CHARS = 1000


def deadletter_headers(reject: Reject, service: str, topic: str, partition: int, offset: int,
                       original: list[tuple[str, bytes]] | None = None) -> list[tuple[str, bytes]]:
    """Our reason and position first, then the original headers minus any `cxpulse.error.*`: a producer could
    otherwise plant a reason of its choosing ahead of, or next to, the genuine one."""
    headers = [
        (HEADER_PREFIX + "reason", reject.reason[:_MAX_HEADER_CHARS].encode()),
        (HEADER_PREFIX + "message", reject.detail[:_MAX_HEADER_CHARS].encode()),
        (HEADER_PREFIX + "class", reject.error_class[:_MAX_HEADER_CHARS].encode()),
        (HEADER_PREFIX + "service", service.encode()),
        (HEADER_PREFIX + "source.topic", topic.encode()),
        (HEADER_PREFIX + "source.partition", str(partition).encode()),
        (HEADER_PREFIX + "source.offset", str(offset).encode()),
    ]
    headers += [(k, v) for k, v in original or [] if not k.startswith(HEADER_PREFIX)]
    return headers


class InvalidRatioLimit:
    """Watches the share of rejected inputs among the last `window` (once `min_messages` were seen).

    Above `max_ratio` it reports a flood (the gauge cxpulse_deadletter_flood, alert CxpulseDeadLetterFlood) and
    the service keeps going: invalid records are dead-lettered, valid ones still flow. That is the default
    because a stop is a weapon in the hands of anyone who can write junk to an input topic. `stop=True`
    (CXPULSE_DLQ_STOP_ON_FLOOD) makes check() raise instead; callers call it only after the batch's dead
    letters are acknowledged and its offsets committed, so a restart makes progress instead of dying on
    the same records again."""

    def __init__(self, max_ratio: float, window: int, min_messages: int, service: str = "",
                 stop: bool = False) -> None:
        self.max_ratio = max_ratio
        self.min_messages = min_messages
        self.stop = stop
        self.service = service
        self._recent: deque[bool] = deque(maxlen=window)
        self._invalid = 0
        self.flooding = False

    def record(self, invalid: bool) -> None:
        if len(self._recent) == self._recent.maxlen and self._recent[0]:
            self._invalid -= 1
        self._recent.append(invalid)
        self._invalid += invalid
        seen = len(self._recent)
        flooding = seen >= self.min_messages and self._invalid / seen > self.max_ratio
        if flooding != self.flooding:
            self.flooding = flooding
            if self.service:
                metrics.DEADLETTER_FLOOD.labels(self.service).set(int(flooding))
            if flooding:
                log.error("dead-letter flood", extra={"rejected": self._invalid, "window": seen,
                                                      "limit": self.max_ratio, "stops": self.stop})

    def describe(self) -> str:
        seen = len(self._recent)
        return (f"{self._invalid} of the last {seen} records were rejected (limit {self.max_ratio:.0%}); "
                f"stopping as CXPULSE_DLQ_STOP_ON_FLOOD asks")

    def check(self) -> None:
        """Raises DeadLetterLimitError during a flood when stopping was opted into; call it only once the
        dead letters of everything recorded so far are acknowledged and their offsets committed."""
        if self.stop and self.flooding:
            raise DeadLetterLimitError(self.describe())
