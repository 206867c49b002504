"""The operations endpoint of every service: /metrics (Prometheus), /healthz (liveness), /readyz (readiness)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .health import Health


def serve(health: Health, host: str, port: int) -> ThreadingHTTPServer:
    """Starts the endpoint in a daemon thread; port 0 picks a free one (see server.server_port)."""

    class Handler(BaseHTTPRequestHandler):
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

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="ops-http", daemon=True).start()
    return server
