"""Rate limits and the deduplication key, free of I/O (the caller passes the clock: wall-clock seconds, so bucket
states written to the changelog mean the same thing after a restart)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cxpulse_core.memory import compacted


@dataclass
class TokenBucket:
    rate_per_s: float
    burst: int
    tokens: float = field(init=False)
    updated: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self, now: float) -> bool:
        if self.updated is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate_per_s)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def full_at(self, now: float) -> bool:
        return self.updated is None or self.tokens + (now - self.updated) * self.rate_per_s >= self.burst


class RateLimiter:
    """One token bucket per key (contact id, recipient); rate 0 disables the limit. A bucket's state is
    (tokens, updated): `state()` reads it for the changelog, `load()` puts it back after a restart."""

    def __init__(self, per_minute: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate_per_s = per_minute / 60
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def state(self, key: str) -> tuple[float, float] | None:
        bucket = self._buckets.get(key)
        return None if bucket is None or bucket.updated is None else (bucket.tokens, bucket.updated)

    def load(self, key: str, tokens: float, updated: float) -> None:
        if self.rate_per_s <= 0:
            return
        bucket = self._buckets[key] = TokenBucket(self.rate_per_s, self.burst)
        bucket.tokens, bucket.updated = min(float(self.burst), tokens), updated

    def forget(self, key: str) -> None:
        self._buckets.pop(key, None)

    def refilled(self, now: float) -> list[str]:
        """Drops the buckets that are full again (they hold no information) and returns their keys."""
        full = [k for k, b in self._buckets.items() if b.full_at(now)]
        for key in full:
            del self._buckets[key]
        return full

    def allow(self, key: str, now: float) -> bool:
        if self.rate_per_s <= 0:
            return True
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._prune(now)
            bucket = self._buckets[key] = TokenBucket(self.rate_per_s, self.burst)
        return bucket.take(now)

    def compact(self) -> None:
        self._buckets = compacted(self._buckets)

    def _prune(self, now: float) -> None:
        self.refilled(now)  # a refilled bucket holds no information: dropping it changes nothing


def dedup_key(alert_id: str, channel: str, recipient: str) -> str:
    return f"{alert_id}/{channel}/{recipient}"
