"""The operations endpoint of every service: /metrics (Prometheus), /healthz (liveness), /readyz (readiness).

Bounded: a fixed pool of worker threads and a short queue of accepted connections (more are closed at once, not
given a thread each), and a socket timeout per connection, so a flood of idle or slow connections cannot exhaust the
process. It binds CXPULSE_HTTP_HOST, 127.0.0.1 unless configured (containers set 0.0.0.0 for their probes)."""

from __future__ import annotations

import contextlib
import queue
import selectors
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .health import Health

WORKERS = 4
MAX_WAITING = 256  # connections that have sent nothing yet; beyond that the oldest is closed
TIMEOUT_S = 5.0  # to send a request (and per blocking read or write after that)


class BoundedHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer's interface, without a thread per connection: one watcher thread holds connections until
    their request arrives (at most MAX_WAITING, each for at most TIMEOUT_S), then one of `workers` threads answers
    it. Idle connections (a slowloris) therefore cost a file descriptor for a few seconds, never a thread, and a
    probe that sends its request gets a worker."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, workers: int = WORKERS) -> None:
        super().__init__(address, handler)
        self._ready: queue.Queue[tuple[socket.socket, Any] | None] = queue.Queue()
        self._selector = selectors.DefaultSelector()
        self._waiting: dict[socket.socket, tuple[float, Any]] = {}  # insertion-ordered: oldest first
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._closed = False
        self._pool_threads = [threading.Thread(target=self._watch, name="ops-http-watch", daemon=True)]
        self._pool_threads += [threading.Thread(target=self._work, name=f"ops-http-{i}", daemon=True)
                          for i in range(workers)]
        for thread in self._pool_threads:
            thread.start()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            if len(self._waiting) >= MAX_WAITING:
                oldest = next(iter(self._waiting))
                self._drop(oldest)
            self._waiting[request] = (time.monotonic() + TIMEOUT_S, client_address)
            self._selector.register(request, selectors.EVENT_READ)
        self._wake_w.send(b"x")

    def _drop(self, conn: socket.socket) -> None:
        self._waiting.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(conn)
        self.shutdown_request(conn)

    def _watch(self) -> None:
        while not self._closed:
            events = self._selector.select(timeout=1.0)
            with self._lock:
                for key, _ in events:
                    conn = key.fileobj
                    if conn is self._wake_r:
                        with contextlib.suppress(BlockingIOError):
                            self._wake_r.recv(4096)
                        continue
                    _, address = self._waiting.pop(conn)  # type: ignore[call-overload]
                    self._selector.unregister(conn)
                    self._ready.put((conn, address))  # type: ignore[arg-type]
                now = time.monotonic()
                for conn in [c for c, (deadline, _) in self._waiting.items() if deadline < now]:
                    self._drop(conn)

    def _work(self) -> None:
        while True:
            item = self._ready.get()
            if item is None:
                return
            request, address = item
            try:
                self.finish_request(request, address)
            except Exception:  # noqa: BLE001 - one broken connection must not end a worker
                self.handle_error(request, address)
            finally:
                self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # timeouts and resets from probing clients are not worth a traceback on stderr

    def server_close(self) -> None:
        super().server_close()
        self._closed = True
        for _ in self._pool_threads:
            self._ready.put(None)
        with self._lock:
            for conn in list(self._waiting):
                self._drop(conn)


def serve(health: Health, host: str, port: int) -> ThreadingHTTPServer:
    """Starts the endpoint in a daemon thread; port 0 picks a free one (see server.server_port)."""

    class Handler(BaseHTTPRequestHandler):
        timeout = TIMEOUT_S  # socket timeout: a client that sends nothing (or reads nothing) is cut off

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/metrics":
                self._reply(200, generate_latest(), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                ok = health.live
                self._reply(200 if ok else 503, b"ok\n" if ok else f"not live: {health.fatal or 'stalled'}\n".encode())
            elif path == "/readyz":
                self._reply(200 if health.ready else 503, b"ready\n" if health.ready else b"not ready\n")
            else:
                self._reply(404, b"not found\n")

        def _reply(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # probes every few seconds would flood the log
            pass

    server = BoundedHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="ops-http", daemon=True).start()
    return server
