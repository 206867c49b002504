"""Loopback networking for tests, benchmarks and the demo: a free port, a GET that never raises, waiting on a
condition (never a fixed sleep) and waiting for a service's /readyz."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")


def free_port() -> int:
    """A port nothing listens on now (the OS picks it); another process could take it before it is bound again,
    which on a test machine's loopback does not happen in practice."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(port: int, path: str, timeout_s: float = 2.0, headers: Mapping[str, str] | None = None,
             host: str = "127.0.0.1") -> tuple[int, str]:
    """(status, body) of GET http://<host>:<port><path>; (0, "") when nothing answers."""
    request = urllib.request.Request(f"http://{host}:{port}{path}", headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except OSError:
        return 0, ""


def wait_until(condition: Callable[[], T], what: str, timeout_s: float = 60.0, interval_s: float = 0.2) -> T:
    """Polls `condition` until it returns something truthy (returned); AssertionError naming `what` after the
    timeout. The timeout is a safety net for a hung test, never the thing a test asserts."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for: {what}")
        time.sleep(interval_s)


def wait_ready(port: int, what: str, timeout_s: float = 120.0, alive: Callable[[], bool] | None = None,
               path: str = "/readyz") -> float:
    """Waits until GET <path> on `port` answers 200; returns the seconds that took. `alive` (e.g. "the process
    still runs") is checked on every poll, so a service that died fails at once instead of at the timeout."""
    started = time.monotonic()

    def ready() -> bool:
        assert alive is None or alive(), f"{what} exited before {path} answered 200"
        return http_get(port, path, timeout_s=1.0)[0] == 200

    wait_until(ready, f"{what} {path} 200", timeout_s, interval_s=0.1)
    return time.monotonic() - started
