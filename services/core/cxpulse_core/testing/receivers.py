"""The other ends of the notification service's channels, on loopback: a webhook receiver that checks Standard
Webhooks signatures with the spec's own library (`standardwebhooks`, not our signing code) and an SMTP server
(aiosmtpd) that keeps what it receives. Used by tests, benchmarks and the demo."""

from __future__ import annotations

import binascii
import json
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from .net import free_port


@dataclass(frozen=True)
class WebhookRequest:
    at: float  # time.time() when the body was read
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool  # a valid, fresh Standard Webhooks signature

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def id(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "webhook-id"), "")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default listen backlog (5) drops SYNs of a burst: 1 s client retransmits


class WebhookReceiver:
    """HTTP on 127.0.0.1:`port` (0: a free one) taking POSTs on any path. Answers 401 to a bad or stale signature,
    otherwise what `script` says next ((status, headers), in order), else 200. `requests` keeps every request,
    retries included; `received` the first verified delivery of each webhook-id, as a receiver would process it
    (a replayed id is acknowledged, so a sender's retry stops, and counted in `duplicates`)."""

    def __init__(self, secret: str, port: int = 0, host: str = "127.0.0.1") -> None:
        self.webhook = Webhook(secret.encode())  # the notification service's key: the secret's UTF-8 bytes
        self.requests: list[WebhookRequest] = []
        self.received: list[dict[str, Any]] = []  # {"key", "path", "at", "body"} of first verified deliveries
        self.script: list[tuple[int, dict[str, str]]] = []
        self.rejected = 0
        self.duplicates = 0
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self.host, self.port = host, port or free_port()
        self._server: _Server | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        try:
            self.webhook.verify(body, headers, json_parse=False)
            return True
        except (WebhookVerificationError, ValueError, binascii.Error):  # ValueError: a malformed signature
            return False

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        request = WebhookRequest(time.time(), path, headers, body, self.verify(body, headers))
        with self._lock:
            self.requests.append(request)
            if not request.verified:
                self.rejected += 1
                return 401, {}
            status, extra = self.script.pop(0) if self.script else (200, {})
            if 200 <= status < 300:
                if request.id in self._seen:
                    self.duplicates += 1
                else:
                    self._seen.add(request.id)
                    self.received.append({"key": request.id, "path": path, "at": request.at, "body": request.json})
            return status, extra

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, extra = receiver._handle(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = _Server((self.host, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name=f"webhook-receiver-{self.port}",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def keys(self, path: str | None = None) -> list[str]:
        """webhook-id of every request (retries included) to `path` (any path when None), in arrival order."""
        with self._lock:
            return [r.id for r in self.requests if path is None or r.path == path]

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MailSink:
    """aiosmtpd on 127.0.0.1:`port` (0: a free one); `messages` holds every e-mail received, parsed with the
    modern email policy (get_body, get_content)."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self.messages: list[Message] = []
        self.host, self.port = host, port or free_port()
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd
                raw = envelope.original_content or envelope.content
                sink.messages.append(message_from_bytes(raw, policy=default_policy))
                return "250 OK"

        self._controller = Controller(Handler(), hostname=host, port=self.port)

    def start(self) -> MailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
