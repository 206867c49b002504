"""The service's changelog (compacted topic `cx.notification.delivered`), read back at each partition assignment:

* `<alert id>/<channel>/<recipient>` -> `{"outcome", "time"}`: a final outcome, so an alert read again after a
  restart or a rebalance is not delivered (nor dead-lettered) twice; or `{"outcome": "retrying", "since", "time"}`
  while a delivery is being retried, so its retry budget counts from its first failure across restarts.
* `~rate/contact/<contact id>`, `~rate/recipient/<channel>/<recipient>` -> `{"tokens", "updated"}`: rate-limit
  buckets, so a restart does not hand out a fresh burst; a tombstone once a bucket is full again."""

from __future__ import annotations

import json
import logging

from cxpulse_core.changelog import encode_state, read_to_end
from cxpulse_core.settings import KafkaSettings

from .limits import Outcomes, RateLimiter

log = logging.getLogger(__name__)
RETRYING = "retrying"
RATE_PREFIX = "~rate/"


def outcome_record(outcome: str, time_ms: int) -> bytes:
    return encode_state({"outcome": outcome, "time": time_ms}) or b""


def retrying_record(since_ms: int, time_ms: int) -> bytes:
    return encode_state({"outcome": RETRYING, "since": since_ms, "time": time_ms}) or b""


def rate_key(limiter: str, key: str) -> str:
    return f"{RATE_PREFIX}{limiter}/{key}"


def rate_record(state: tuple[float, float] | None) -> bytes | None:
    """A bucket's (tokens, updated), or a tombstone (None) for a bucket that is gone."""
    return None if state is None else encode_state({"tokens": round(state[0], 4), "updated": state[1]})


def restore(kafka: KafkaSettings, topic: str, partitions: list[int], outcomes: Outcomes,
            limiters: dict[str, RateLimiter] | None = None) -> int:
    """Loads every final outcome, retry start and rate-limit bucket of the changelog; returns how many records it
    read."""
    count = 0
    for message in read_to_end(kafka, topic, partitions):
        count += 1
        apply(outcomes, limiters or {}, (message.key() or b"").decode(), message.value(), message.offset())
    return count


def apply(outcomes: Outcomes, limiters: dict[str, RateLimiter], key: str, value: bytes | None,
          offset: int = -1) -> None:
    if key.startswith(RATE_PREFIX):
        name, _, bucket = key[len(RATE_PREFIX):].partition("/")
        limiter = limiters.get(name)
        if limiter is None:
            return
        if value is None:
            limiter.forget(bucket)
            return
    try:
        data = json.loads(value) if value is not None else None
        if key.startswith(RATE_PREFIX):
            limiter.load(bucket, float(data["tokens"]), float(data["updated"]))
        elif data is None:
            outcomes.final.pop(key, None)
            outcomes.failing_since.pop(key, None)
        elif data["outcome"] == RETRYING:
            outcomes.final.pop(key, None)
            outcomes.failing_since[key] = int(data["since"])
        else:
            outcomes.failing_since.pop(key, None)
            outcomes.final[key] = (str(data["outcome"]), int(data["time"]))
    except (ValueError, KeyError, TypeError):
        log.warning("unreadable changelog record skipped", extra={"key": key, "offset": offset})
