"""Customer sentiment and negative share over time, per queue and per channel, for the dashboard's trends. Every
scored customer turn adds to a time bucket keyed by (queue, channel, agent), so any filter by queue, agent or
channel can be answered from the same buckets. Two resolutions: 1-minute buckets over the last hour and
15-minute buckets over the last day. "Now" is the newest event time seen, so a replay (or a test's fixed
clock) shows its own last hour. Bounded: buckets older than their window are dropped and each bucket holds at
most `max_keys` keys (the rest fold into one "other" key)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

MINUTE = 60_000


@dataclass(frozen=True)
class Window:
    name: str
    bucket_ms: int
    span_ms: int


WINDOWS = {"hour": Window("hour", MINUTE, 60 * MINUTE), "day": Window("day", 15 * MINUTE, 24 * 60 * MINUTE)}
Key = tuple[str, str, str]  # queue, channel, agent
OTHER: Key = ("other", "other", "other")


class Trends:
    def __init__(self, max_keys: int = 2_000) -> None:
        self.max_keys = max_keys
        self.now = 0
        # window -> bucket start -> key -> [turns, score sum, negative turns]
        self._buckets: dict[str, OrderedDict[int, dict[Key, list[float]]]] = {w: OrderedDict() for w in WINDOWS}

    def add(self, t_ms: int, queue: str | None, channel: str | None, agent: str | None, score: float,
            negative: bool) -> None:
        self.now = max(self.now, t_ms)
        key = (queue or "–", channel or "voice", agent or "–")
        for name, w in WINDOWS.items():
            start = t_ms - t_ms % w.bucket_ms
            if start <= self.now - w.span_ms:
                continue  # too old for this window
            buckets = self._buckets[name]
            bucket = buckets.get(start)
            if bucket is None:
                late = bool(buckets) and start < next(reversed(buckets))
                bucket = buckets[start] = {}
                if late:  # keep buckets in time order, so expiry pops from the front
                    self._sort(name)
                    buckets = self._buckets[name]
            cell = bucket.get(key)
            if cell is None:
                if len(bucket) >= self.max_keys:
                    key = OTHER
                cell = bucket.setdefault(key, [0, 0.0, 0])
            cell[0] += 1
            cell[1] += score
            cell[2] += int(negative)
            self._expire(name)

    def _sort(self, name: str) -> None:
        self._buckets[name] = OrderedDict(sorted(self._buckets[name].items()))

    def _expire(self, name: str) -> None:
        buckets, span = self._buckets[name], WINDOWS[name].span_ms
        while buckets and next(iter(buckets)) <= self.now - span:
            buckets.popitem(last=False)

    def series(self, window: str, queue: str | None = None, agent: str | None = None,
               channel: str | None = None) -> dict[str, Any]:
        """{"window", "bucket_ms", "start", "end", "queue": {name: [[t, mean, negative share, turns], ...]},
        "channel": {...}}: one point per non-empty bucket, only keys matching the filter."""
        w = WINDOWS[window]
        self._expire(window)
        by: dict[str, dict[str, dict[int, list[float]]]] = {"queue": {}, "channel": {}}
        for start, bucket in self._buckets[window].items():
            for (q, c, a), (n, total, neg) in bucket.items():
                if (queue and q != queue) or (agent and a != agent) or (channel and c != channel):
                    continue
                for dim, name in (("queue", q), ("channel", c)):
                    cell = by[dim].setdefault(name, {}).setdefault(start, [0, 0.0, 0])
                    cell[0] += n
                    cell[1] += total
                    cell[2] += neg
        end = self.now - self.now % w.bucket_ms + w.bucket_ms
        return {"window": w.name, "bucket_ms": w.bucket_ms, "start": end - w.span_ms, "end": end} | {
            dim: {name: [[t, round(s / n, 4), round(neg / n, 4), int(n)] for t, (n, s, neg) in sorted(points.items())]
                  for name, points in sorted(series.items())}
            for dim, series in by.items()}
