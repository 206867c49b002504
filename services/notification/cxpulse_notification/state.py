"""What the service remembers, in core's per-partition changelog-backed state (compacted topic
`cx.notification.delivered`, each record on its input's partition), restored when a partition is assigned:

* `<alert id>/<channel>/<recipient>` -> `{"outcome", "time"}`: a final outcome, so an alert read again after a
  restart or a rebalance is not delivered (nor dead-lettered) twice; or `{"outcome": "retrying", "since", "time"}`
  while a delivery is being retried, so its retry budget counts from its first failure across restarts.
* `~rate/contact/<contact id>`, `~rate/recipient/<channel>/<recipient>` -> `{"tokens", "updated"}`: rate-limit
  buckets, so a restart does not hand out a fresh burst; a tombstone once a bucket is full again. The limiters
  count per instance across its partitions (a recipient's alerts come on every partition): a bucket is written
  on the partition of the alert that last used it, and the most recent of its records wins at restore.

Outcomes older than `ttl_ms` are forgotten (inputs that old are past the input topics' retention)."""

from __future__ import annotations

import json
import logging
from typing import Any

from cxpulse_core.settings import KafkaSettings
from cxpulse_core.state import ChangelogState

from .limits import RateLimiter

log = logging.getLogger(__name__)
RETRYING = "retrying"
PENDING = "pending"
RATE_PREFIX = "~rate/"


def rate_key(limiter: str, key: str) -> str:
    return f"{RATE_PREFIX}{limiter}/{key}"


class DeliveryState:
    def __init__(self, store: ChangelogState[dict[str, Any]], ttl_ms: int, limiters: dict[str, RateLimiter]) -> None:
        self.store, self.ttl_ms, self.limiters = store, ttl_ms, limiters
        self.pending: set[str] = set()  # deliveries started and not final (in memory: a restart re-reads them)

    # -- outcomes ---------------------------------------------------------------------------------------------
    def seen(self, partition: int, key: str) -> str | None:
        """The earlier outcome ("pending" while in progress), or None for a new delivery."""
        if key in self.pending:
            return PENDING
        record = self.store.partition(partition).get(key)
        return None if record is None or record["outcome"] == RETRYING else str(record["outcome"])

    def failing_since(self, partition: int, key: str) -> int | None:
        """When a delivery being retried first failed (kept across restarts), else None."""
        record = self.store.partition(partition).get(key)
        return int(record["since"]) if record is not None and record["outcome"] == RETRYING else None

    def start(self, key: str) -> None:
        self.pending.add(key)

    def cancel(self, key: str) -> None:
        self.pending.discard(key)

    def retrying(self, partition: int, key: str, since_ms: int, now_ms: int) -> None:
        if partition in self.store.partitions:
            self.store.partition(partition).set(key, {"outcome": RETRYING, "since": since_ms, "time": now_ms})

    def finish(self, partition: int, key: str, outcome: str, now_ms: int) -> None:
        self.pending.discard(key)
        if partition in self.store.partitions:  # not for a partition revoked meanwhile: its next owner has it
            self.store.partition(partition).set(key, {"outcome": outcome, "time": now_ms})

    def prune(self, now_ms: int) -> int:
        old = 0
        for p in self.store.partitions:
            state = self.store.partition(p)
            for key, record in state.items():
                if not key.startswith(RATE_PREFIX) and now_ms - int(record["time"]) > self.ttl_ms \
                        and key not in self.pending:
                    state.delete(key)
                    old += 1
        return old

    # -- rate limits ------------------------------------------------------------------------------------------
    def allow(self, partition: int, name: str, key: str, now_s: float) -> bool:
        """Takes a token from a bucket; the bucket goes to the changelog (restored on restart)."""
        limiter = self.limiters[name]
        allowed = limiter.allow(key, now_s)
        bucket = limiter.state(key)
        if limiter.rate_per_s > 0 and bucket is not None and partition in self.store.partitions:
            self.store.partition(partition).set(rate_key(name, key), {"tokens": round(bucket[0], 4),
                                                                      "updated": bucket[1]})
        return allowed

    def forget_refilled(self, now_s: float) -> int:
        """Full buckets hold nothing: dropped, and tombstoned wherever they were written. Returns how many."""
        dropped = 0
        for name, limiter in self.limiters.items():
            for key in limiter.refilled(now_s):
                dropped += 1
                for p in self.store.partitions:
                    self.store.partition(p).delete(rate_key(name, key))
        return dropped

    def compact(self) -> None:
        """After many outcomes and buckets went: the maps re-sized (cxpulse_core.memory.MemoryRelease calls it)."""
        for p in self.store.partitions:
            self.store.partition(p).compact()
        for limiter in self.limiters.values():
            limiter.compact()

    def restored(self, partitions: list[int]) -> None:
        """Loads the rate-limit buckets of newly assigned partitions (the newest record of a bucket wins)."""
        for p in partitions:
            for key, record in self.store.partition(p).items():
                if not key.startswith(RATE_PREFIX):
                    continue
                name, _, bucket = key[len(RATE_PREFIX):].partition("/")
                limiter = self.limiters.get(name)
                try:
                    tokens, updated = float(record["tokens"]), float(record["updated"])
                except (KeyError, TypeError, ValueError):
                    log.warning("unreadable rate-limit record skipped", extra={"key": key, "partition": p})
                    continue
                current = limiter.state(bucket) if limiter is not None else None
                if limiter is not None and (current is None or current[1] < updated):
                    limiter.load(bucket, tokens, updated)


def decode(key: str, raw: bytes) -> dict[str, Any]:
    """A changelog record, checked (a record of another shape raises, and the restore skips it)."""
    data = json.loads(raw)
    if key.startswith(RATE_PREFIX):
        float(data["tokens"]), float(data["updated"])
    else:
        str(data["outcome"]), int(data["time"])
        if data["outcome"] == RETRYING:
            int(data["since"])
    return data


def delivery_store(topic: str, kafka: KafkaSettings | None, **kw: Any) -> ChangelogState[dict[str, Any]]:
    return ChangelogState(topic, kafka, decode=decode, **kw)
