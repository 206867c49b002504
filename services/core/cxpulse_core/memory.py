"""Giving memory back after state expires. CPython frees small objects into its own arenas and larger ones into
glibc's heap, which keeps freed pages mapped: after tens of thousands of contacts expire, RSS would stay at its
peak. A full collection plus glibc's malloc_trim returns the free pages to the OS; it costs a few milliseconds,
so it runs only after many entries went and not more often than every `min_interval_s`, or, for the tail of a
sweep (fewer than `min_items` since the last release), once `tail_interval_s` has passed.

A dict's table never shrinks when entries are deleted (20,000 contacts leave a table sized for 20,000 behind, and
an OrderedDict a node array as large), so each service hands `note()` a `compact` callback that rebuilds the maps
its expiry emptied (`compacted()`), run just before the trim so the old tables are among what goes back.

What expiry drops and each release are counted (`cxpulse_state_expired_total`, `cxpulse_memory_releases_total`,
labelled with the state's name), so an operator, and the ttl benchmark, can see expiry keep up.

CPython's own small-object allocator gives an arena back only once every object in it is gone, which state that
expires among longer-lived objects rarely allows; run with PYTHONMALLOC=malloc (the images and the local pipeline
do, see deploy/README.md) and these objects come from glibc, whose malloc_trim returns every free page."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import time
from collections.abc import Callable, MutableMapping
from typing import TypeVar

from . import metrics

log = logging.getLogger(__name__)
M = TypeVar("M", bound=MutableMapping)
V = TypeVar("V")
# How the services run (Dockerfiles, the local pipeline): objects from glibc's malloc, which malloc_trim can give
# back page by page, and two malloc arenas rather than one per thread (librdkafka's, onnxruntime's).
ALLOCATOR_ENV = {"PYTHONMALLOC": "malloc", "MALLOC_ARENA_MAX": "2"}


def _load_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _load_trim()


def malloc_trim() -> bool:
    """glibc's malloc_trim(0): free pages of every malloc arena back to the OS. False where there is no glibc
    (a no-op) or nothing could be released."""
    return bool(_TRIM(0)) if _TRIM is not None else False


def compacted(mapping: M) -> M:
    """A copy of `mapping` (dict, OrderedDict, defaultdict: order and factory kept) whose table is sized for what
    it holds now; the caller swaps it in for the original, whose oversized table is then freed."""
    return mapping.copy()  # type: ignore[return-value]  # dict.copy re-sizes a table with many deleted slots


class Shared:
    """One object per distinct value (up to `limit` of them, then it starts over), for long-lived state that a
    stream rewrites with equal values: a fresh copy per record would be allocated among short-lived per-contact
    objects and pin a page of them after they expire; the shared one was allocated once, long before."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._values: dict = {}

    def __call__(self, value: V) -> V:
        if len(self._values) >= self.limit:
            self._values = {}  # many distinct values: start over rather than grow
        return self._values.setdefault(value, value)


class MemoryRelease:
    def __init__(self, state: str = "contacts", min_items: int = 1000, min_interval_s: float = 10.0,
                 tail_interval_s: float = 20.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.state = state  # the label of the metrics: which state expired
        self.min_items, self.min_interval_s, self.tail_interval_s = min_items, min_interval_s, tail_interval_s
        self.clock = clock
        self._pending = 0
        self._last = clock()
        self.releases = 0

    def note(self, freed: int, compact: Callable[[], None] | None = None) -> bool:
        """Counts entries freed (call it after every expiry sweep, 0 included: a tail waits for a later call);
        compacts the maps and releases memory once enough went. True when it did."""
        if freed:
            metrics.child(metrics.STATE_EXPIRED, metrics.process_service(), self.state).inc(freed)
        self._pending += freed
        if not self._pending:
            return False
        waited = self.clock() - self._last
        if waited < (self.min_interval_s if self._pending >= self.min_items else self.tail_interval_s):
            return False
        started = time.perf_counter()
        if compact is not None:
            compact()
        gc.collect()
        trimmed = malloc_trim()
        log.info("memory released after state expiry", extra={
            "entries": self._pending, "trimmed": trimmed, "ms": round((time.perf_counter() - started) * 1000, 1)})
        self._pending, self._last = 0, self.clock()
        self.releases += 1
        metrics.child(metrics.MEMORY_RELEASES, metrics.process_service(), self.state).inc()
        return True
