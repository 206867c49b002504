"""The supervisors' side of the demo and the end-to-end test: a webhook receiver that verifies cxpulse's
signatures and drops duplicates by idempotency key, and an SMTP server that keeps the e-mails it receives."""

from __future__ import annotations

import json
import threading
import time
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from cxpulse_notification.signing import WEBHOOK_ID, ReplayGuard, verify_standard


class WebhookReceiver:
    def __init__(self, secret: str, host: str = "127.0.0.1", port: int = 9099) -> None:
        self.secret = secret.encode()
        self.received: list[dict[str, Any]] = []  # verified, first delivery per idempotency key
        self.rejected = 0  # bad signature or stale timestamp
        self.duplicates = 0  # a webhook-id seen before: a retry or a replay, not processed again
        self.replays = ReplayGuard()
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_port

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = verify_standard(receiver.secret, dict(self.headers.items()), body)
                msg_id = self.headers.get(WEBHOOK_ID, "")
                with receiver.lock:
                    if not ok:
                        receiver.rejected += 1
                    elif not receiver.replays.first(msg_id):  # whatever the path or other headers
                        receiver.duplicates += 1
                    else:
                        receiver.received.append({"key": msg_id, "path": self.path, "at": time.time(),
                                                  "body": json.loads(body)})
                # A replayed id is acknowledged (so a sender's retry stops) but not processed again.
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def start(self) -> WebhookReceiver:
        threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class MailSink:
    """aiosmtpd on loopback; `messages` holds every e-mail received (email.message.Message)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 2525) -> None:
        self.messages: list[Any] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                sink.messages.append(message_from_bytes(envelope.original_content or envelope.content))
                return "250 OK"

        self._controller = Controller(Handler(), hostname=host, port=port)
        self.port = port

    def start(self) -> MailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
