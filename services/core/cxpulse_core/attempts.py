"""Scheduled blocking attempts beside the stream loop (deliveries to HTTP and SMTP receivers, with retries): a heap
orders the work by due time, a small pool runs the attempts, and results come back through a queue to the loop's
thread, which owns all state and decides what happens next (final, or scheduled again after a backoff).

Nothing here blocks the loop: it dispatches what is due and collects what finished on every turn, and tells the
loop how long it may wait for input before the next attempt is due (the handler's wait_s)."""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


class ScheduledAttempts(Generic[T, R]):
    """`attempt(item) -> result` runs on a pool thread (it must not touch the caller's state); an attempt that
    raises gives `on_error(item, exc)` as its result instead, so a bug in a client never loses the item."""

    def __init__(self, attempt: Callable[[T], R], on_error: Callable[[T, Exception], R], workers: int,
                 name: str = "attempt") -> None:
        self._attempt, self._on_error = attempt, on_error
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=name)
        self._heap: list[tuple[float, int, T]] = []
        self._running: dict[int, T] = {}
        self._results: queue.SimpleQueue[tuple[T, R]] = queue.SimpleQueue()
        self._seq = itertools.count()

    def schedule(self, item: T, delay_s: float = 0.0) -> None:
        heapq.heappush(self._heap, (time.monotonic() + delay_s, next(self._seq), item))

    def dispatch_due(self) -> None:
        now = time.monotonic()
        while self._heap and self._heap[0][0] <= now:
            _, _, item = heapq.heappop(self._heap)
            self._running[id(item)] = item
            self._pool.submit(self._run, item)

    def _run(self, item: T) -> None:  # on a pool thread
        try:
            result = self._attempt(item)
        except Exception as exc:
            log.exception("attempt raised")
            result = self._on_error(item, exc)
        self._results.put((item, result))

    def finished(self, block_s: float = 0.0) -> list[tuple[T, R]]:
        """The attempts that finished since the last call (waiting up to `block_s` for the first)."""
        done = []
        while True:
            try:
                item, result = self._results.get(timeout=block_s) if block_s else self._results.get_nowait()
            except queue.Empty:
                return done
            block_s = 0.0
            self._running.pop(id(item), None)
            done.append((item, result))

    def wait_s(self, idle_s: float = 0.1) -> float:
        """How long the loop may wait for input: 0 with results waiting, briefly with attempts running (their
        outcomes are recorded promptly), else until the next due attempt (at most `idle_s`)."""
        wait = 0.0 if not self._results.empty() else 0.01 if self._running else idle_s
        if self._heap:
            wait = max(0.0, min(wait, self._heap[0][0] - time.monotonic()))
        return wait

    def scheduled(self) -> list[T]:
        return [item for _, _, item in self._heap]

    def running(self) -> list[T]:
        return list(self._running.values())

    def cancel(self, which: Callable[[T], bool]) -> list[T]:
        """Takes the scheduled items `which` selects off the schedule; returns them."""
        gone = [entry for entry in self._heap if which(entry[2])]
        if gone:
            self._heap = [entry for entry in self._heap if not which(entry[2])]
            heapq.heapify(self._heap)
        return [item for _, _, item in gone]

    def bring_forward(self, which: Callable[[T], bool]) -> int:
        """Makes the scheduled items `which` selects due now (e.g. the receiver is back); returns how many."""
        now, moved = time.monotonic(), 0
        for i, (due, seq, item) in enumerate(self._heap):
            if due > now and which(item):
                self._heap[i] = (now, seq, item)
                moved += 1
        if moved:
            heapq.heapify(self._heap)
        return moved

    def settle(self, timeout_s: float) -> list[tuple[T, R]]:
        """Waits (up to `timeout_s`) for the attempts running now; returns every result that came in."""
        deadline = time.monotonic() + timeout_s
        done = self.finished()
        while self._running and time.monotonic() < deadline:
            done += self.finished(block_s=0.2)
        return done

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
