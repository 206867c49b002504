"""Core's scheduled attempts (notification's deliveries and retries): real threads, no broker."""

from __future__ import annotations

import threading
import time

from cxpulse_core.attempts import ScheduledAttempts


def collect(attempts: ScheduledAttempts, count: int, timeout_s: float = 10.0) -> list:
    """Dispatches and collects until `count` results came (a wait on the condition, bounded)."""
    done: list = []
    deadline = time.monotonic() + timeout_s
    while len(done) < count:
        assert time.monotonic() < deadline, f"only {len(done)} of {count} attempts finished"
        attempts.dispatch_due()
        done += attempts.finished(block_s=0.05)
    return done


def test_attempts_run_on_the_pool_and_a_raising_one_becomes_its_error_result():
    caller = threading.get_ident()

    def attempt(item: str) -> tuple[str, bool]:
        if item == "bad":
            raise RuntimeError("client bug")
        return item, threading.get_ident() != caller

    attempts = ScheduledAttempts(attempt, lambda item, exc: (item, f"error: {exc}"), workers=2)
    for item in ("a", "b", "bad"):
        attempts.schedule(item)
    results = dict(collect(attempts, 3))
    assert results == {"a": ("a", True), "b": ("b", True), "bad": ("bad", "error: client bug")}
    assert attempts.running() == [] and attempts.scheduled() == []
    attempts.close()


def test_a_later_attempt_waits_for_its_time_can_be_brought_forward_or_cancelled():
    attempts = ScheduledAttempts(lambda item: item, lambda item, exc: None, workers=1)
    attempts.schedule("later", delay_s=3600)
    attempts.schedule("gone", delay_s=3600)
    attempts.schedule("now")
    assert [item for item, _ in collect(attempts, 1)] == ["now"]
    assert 3500 < attempts.wait_s(idle_s=1e9) <= 3600  # the loop may wait until the next is due
    attempts.dispatch_due()
    assert sorted(attempts.scheduled()) == ["gone", "later"]  # not due: still waiting
    assert attempts.cancel(lambda item: item == "gone") == ["gone"]
    assert attempts.bring_forward(lambda item: item == "later") == 1 and attempts.wait_s() == 0.0
    assert [item for item, _ in collect(attempts, 1)] == ["later"]
    attempts.close()


def test_settle_waits_for_the_running_attempts_only():
    release = threading.Event()
    attempts = ScheduledAttempts(lambda item: release.wait(10) and item, lambda item, exc: None, workers=2)
    attempts.schedule("running")
    attempts.schedule("waiting", delay_s=3600)
    attempts.dispatch_due()
    assert attempts.running() == ["running"]
    threading.Timer(0.2, release.set).start()
    assert attempts.settle(timeout_s=10) == [("running", "running")]
    assert attempts.scheduled() == ["waiting"]
    attempts.close()
