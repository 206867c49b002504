"""Retry policy, free of I/O: which attempt outcomes are retried, after how long, and when to give up."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

DELIVERED, RETRY, FAILED = "delivered", "retry", "failed"
DEDUPLICATED, RATE_LIMITED = "deduplicated", "rate_limited"
FINAL_OUTCOMES = (DELIVERED, FAILED, DEDUPLICATED, RATE_LIMITED)


@dataclass(frozen=True)
class AttemptResult:
    """What one delivery attempt returned, as the channel client saw it."""

    ok: bool
    retryable: bool = False
    status_code: int | None = None  # HTTP status or SMTP reply code
    error: str | None = None
    retry_after_s: float | None = None  # the receiver asked us to wait this long (HTTP 429)


@dataclass(frozen=True)
class Decision:
    outcome: str  # delivered, retry or failed
    delay_s: float = 0.0  # for retry
    reason: str = ""  # for failed: the dead-letter reason code


@dataclass(frozen=True)
class Backoff:
    initial_s: float = 0.5
    multiplier: float = 2.0
    max_s: float = 30.0
    jitter: float = 0.5  # the delay is drawn from [(1 - jitter) * d, d]

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Delay after failed attempt number `attempt` (1-based): exponential, capped, jittered down."""
        capped = min(self.max_s, self.initial_s * self.multiplier ** (attempt - 1))
        return capped * (1 - self.jitter * (rng or random).random())


def classify_http(status: int, retry_after: str | None = None, now: datetime | None = None) -> AttemptResult:
    """2xx delivered; 5xx and 429 retried (429 after Retry-After); any other status is final."""
    if 200 <= status < 300:
        return AttemptResult(ok=True, status_code=status)
    if status == 429:
        return AttemptResult(False, True, status, "HTTP 429 Too Many Requests", parse_retry_after(retry_after, now))
    return AttemptResult(False, status >= 500, status, f"HTTP {status}")


def classify_smtp(code: int, message: str = "") -> AttemptResult:
    """SMTP replies: 2xx accepted, 4xx transient (retried), 5xx permanent."""
    if 200 <= code < 300:
        return AttemptResult(ok=True, status_code=code)
    return AttemptResult(False, 400 <= code < 500, code, f"SMTP {code} {message}".strip())


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as delta-seconds or an HTTP-date; None when absent or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def decide(result: AttemptResult, attempt: int, backoff: Backoff, retry_after_max_s: float, *, failing_s: float,
           budget_s: float, max_attempts: int = 0, rng: random.Random | None = None) -> Decision:
    """`failing_s`: how long this delivery has been failing (since its first failed attempt). A retryable failure
    is retried while the next attempt still falls within `budget_s` of that first failure (and, when
    `max_attempts` > 0, while attempts remain); the last delay is shortened to land on the budget's end."""
    if result.ok:
        return Decision(DELIVERED)
    if not result.retryable:
        return Decision(FAILED, reason="rejected")
    remaining = budget_s - failing_s
    if remaining <= 0 or (max_attempts and attempt >= max_attempts):
        return Decision(FAILED, reason="retries_exhausted")
    delay = backoff.delay(attempt, rng)
    if result.retry_after_s is not None:
        delay = max(delay, min(result.retry_after_s, retry_after_max_s))
    return Decision(RETRY, min(delay, remaining))
