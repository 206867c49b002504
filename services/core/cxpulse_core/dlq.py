"""Dead letters: the original bytes and key, with the reason and the source position in headers; and a limit
that stops the service loudly when bad input floods in rather than draining a topic into the dead-letter queue."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

HEADER_PREFIX = "cxpulse.error."


class DeadLetterLimitError(RuntimeError):
    """Too many rejected records in the recent window: something upstream is broken."""


@dataclass(frozen=True)
class Reject:
    """A handler's verdict that an input is bad: it goes to the dead-letter topic with this reason."""

    reason: str  # short code, e.g. missing_field, invalid_json, decode_error
    detail: str  # which field, what was wrong (never the offending PII itself)
    error_class: str = "ValidationError"


def deadletter_headers(reject: Reject, service: str, topic: str, partition: int, offset: int,
                       original: list[tuple[str, bytes]] | None = None) -> list[tuple[str, bytes]]:
    headers = list(original or [])
    headers += [
        (HEADER_PREFIX + "reason", reject.reason.encode()),
        (HEADER_PREFIX + "message", reject.detail.encode()),
        (HEADER_PREFIX + "class", reject.error_class.encode()),
        (HEADER_PREFIX + "service", service.encode()),
        (HEADER_PREFIX + "source.topic", topic.encode()),
        (HEADER_PREFIX + "source.partition", str(partition).encode()),
        (HEADER_PREFIX + "source.offset", str(offset).encode()),
    ]
    return headers


class InvalidRatioLimit:
    """Trips when more than `max_ratio` of the last `window` inputs were rejected (after `min_messages`)."""

    def __init__(self, max_ratio: float, window: int, min_messages: int) -> None:
        self.max_ratio = max_ratio
        self.min_messages = min_messages
        self._recent: deque[bool] = deque(maxlen=window)
        self._invalid = 0

    def record(self, invalid: bool) -> None:
        if len(self._recent) == self._recent.maxlen and self._recent[0]:
            self._invalid -= 1
        self._recent.append(invalid)
        self._invalid += invalid
        seen = len(self._recent)
        if seen >= self.min_messages and self._invalid / seen > self.max_ratio:
            raise DeadLetterLimitError(
                f"{self._invalid} of the last {seen} records were rejected "
                f"(limit {self.max_ratio:.0%}); stopping instead of draining the topic into the dead-letter queue")
