"""Giving memory back after state expires. CPython frees small objects into its own arenas and larger ones into
glibc's heap, which keeps freed pages mapped: after tens of thousands of contacts expire, RSS would stay at its
peak. A full collection plus glibc's malloc_trim returns the free pages to the OS; it costs a few milliseconds,
so it runs only after many entries went and not more often than every `min_interval_s`."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import time

log = logging.getLogger(__name__)


def _malloc_trim() -> None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        pass


class MemoryRelease:
    def __init__(self, min_items: int = 1000, min_interval_s: float = 10.0) -> None:
        self.min_items, self.min_interval_s = min_items, min_interval_s
        self._pending = 0
        self._last = time.monotonic()

    def note(self, freed: int) -> bool:
        """Counts entries freed; releases memory once enough went. True when it did."""
        self._pending += freed
        if self._pending < self.min_items or time.monotonic() - self._last < self.min_interval_s:
            return False
        started = time.perf_counter()
        gc.collect()
        _malloc_trim()
        log.info("memory released after state expiry", extra={
            "entries": self._pending, "ms": round((time.perf_counter() - started) * 1000, 1)})
        self._pending, self._last = 0, time.monotonic()
        return True
