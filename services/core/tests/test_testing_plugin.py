"""The test plugin's own helpers: the webhook receiver against signatures computed here from the Standard Webhooks
spec's text (not with the library the receiver uses), the SMTP sink against the standard library's smtplib, and
the waits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import subprocess
import sys
import threading
import time
import urllib.request
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from cxpulse_core.testing.net import free_port, http_get, wait_ready, wait_until
from cxpulse_core.testing.receivers import MailSink

SECRET = "plugin-test-secret"
BODY = json.dumps({"alert_id": "a-1"}).encode()


def spec_headers(msg_id: str, body: bytes = BODY, secret: str = SECRET, sent: float | None = None) -> dict[str, str]:
    """webhook-signature = "v1," + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")), per standardwebhooks.com."""
    timestamp = str(int(time.time() if sent is None else sent))
    digest = hmac.new(secret.encode(), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {"webhook-id": msg_id, "webhook-timestamp": timestamp,
            "webhook-signature": f"v1,{base64.b64encode(digest).decode()}", "Content-Type": "application/json"}


def post(url: str, headers: dict[str, str], body: bytes = BODY) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, dict(reply.headers.items())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items())


def test_the_webhook_receiver_accepts_spec_signatures_once_per_id_and_rejects_the_rest(webhook_receiver):
    receiver = webhook_receiver(SECRET)
    statuses = [post(receiver.url("/hooks"), spec_headers("a-1"))[0],
                post(receiver.url("/other"), spec_headers("a-1"))[0],  # a replay: acknowledged, not processed
                post(receiver.url(), spec_headers("a-2") | {"webhook-id": "a-3"})[0],  # the id is signed
                post(receiver.url(), spec_headers("a-4", secret="another"))[0],
                post(receiver.url(), spec_headers("a-5", sent=time.time() - 400))[0],  # stale
                post(receiver.url(), spec_headers("a-6") | {"webhook-signature": "v1,not base64!"})[0],
                post(receiver.url(), {"Content-Type": "application/json"})[0]]
    assert statuses == [200, 200, 401, 401, 401, 401, 401]
    assert [r["key"] for r in receiver.received] == ["a-1"] and receiver.received[0]["body"] == {"alert_id": "a-1"}
    assert receiver.duplicates == 1 and receiver.rejected == 5 and len(receiver.requests) == 7
    assert receiver.keys("/hooks") == ["a-1"] and [r.verified for r in receiver.requests[:3]] == [True, True, False]


def test_the_webhook_receiver_answers_as_scripted_and_counts_only_accepted_deliveries(webhook_receiver):
    receiver = webhook_receiver(SECRET)
    receiver.script = [(429, {"Retry-After": "3"}), (503, {})]
    answers = [post(receiver.url(), spec_headers("a-1")) for _ in range(3)]
    assert [status for status, _ in answers] == [429, 503, 200] and answers[0][1]["Retry-After"] == "3"
    assert receiver.keys() == ["a-1"] * 3 and [r["key"] for r in receiver.received] == ["a-1"]
    assert receiver.duplicates == 0


def test_a_receiver_made_unstarted_refuses_connections_until_started(webhook_receiver):
    receiver = webhook_receiver(SECRET, start=False)
    assert http_get(receiver.port, "/")[0] == 0
    receiver.start()
    assert post(receiver.url(), spec_headers("a-1"))[0] == 200


def test_the_mail_sink_keeps_what_smtplib_sends(mail_sink: MailSink):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "cxpulse@example.com", "lead@example.com", "[critical] x"
    message.set_content("plain")
    message.add_alternative("<p>html</p>", subtype="html")
    with smtplib.SMTP(mail_sink.host, mail_sink.port, timeout=10) as client:
        client.send_message(message)
    [got] = wait_until(lambda: mail_sink.messages, "the e-mail at the sink", timeout_s=10)
    assert got["Subject"] == "[critical] x" and got.get_body(("html",)).get_content().strip() == "<p>html</p>"


def test_free_ports_are_free_and_different():
    ports = {free_port() for _ in range(5)}
    assert len(ports) == 5
    for port in ports:
        with HTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler):
            pass  # binds: nothing held it


def test_wait_until_returns_the_value_and_names_what_timed_out():
    box: list[int] = []
    threading.Timer(0.2, box.append, (7,)).start()
    assert wait_until(lambda: box, "the timer", timeout_s=10, interval_s=0.02) == [7]
    with pytest.raises(AssertionError, match="timed out after 0 s waiting for: never"):
        wait_until(lambda: False, "never", timeout_s=0.1, interval_s=0.02)


def test_wait_ready_waits_for_readyz_and_fails_at_once_when_the_process_dies(tmp_path):
    port = free_port()
    server = ("import http.server, time\n"
              "class H(http.server.BaseHTTPRequestHandler):\n"
              "    def do_GET(self):\n"
              "        self.send_response(200 if self.path == '/readyz' else 404); self.end_headers()\n"
              "time.sleep(0.5)  # not ready at first\n"
              f"http.server.HTTPServer(('127.0.0.1', {port}), H).serve_forever()\n")
    process = subprocess.Popen([sys.executable, "-c", server])
    try:
        assert http_get(port, "/readyz")[0] == 0
        assert 0 < wait_ready(port, "the server", timeout_s=30, alive=lambda: process.poll() is None) < 30
    finally:
        process.kill()
        process.wait(10)
    dead = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    dead.wait(10)
    started = time.monotonic()
    with pytest.raises(AssertionError, match="exited"):
        wait_ready(free_port(), "the dead one", timeout_s=30, alive=lambda: dead.poll() is None)
    assert time.monotonic() - started < 30  # failed on the exit, not on the timeout


FAKE_SERVICE = """
import http.server, os, signal, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'cxpulse_up{service="fake"} 1.0\\n' if self.path == "/metrics" else b""
        self.send_response(200 if self.path in ("/readyz", "/metrics") else 404)
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        print("request", *args, flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("start", os.environ["FAKE_GREETING"], flush=True)
http.server.HTTPServer(("127.0.0.1", int(os.environ["CXPULSE_HTTP_PORT"])), H).serve_forever()
"""


def test_a_service_process_starts_answers_restarts_on_its_port_and_stops_gracefully(tmp_path):
    from cxpulse_core.testing.process import ServiceProcess

    (tmp_path / "fake_service.py").write_text(FAKE_SERVICE)
    env = {"PYTHONPATH": str(tmp_path), "FAKE_GREETING": "hello"}
    with ServiceProcess("fake_service", env, tmp_path / "logs" / "fake.log", name="fake") as service:
        assert service.start(timeout_s=30) >= 0 and service.running and service.name == "fake"
        assert service.metric("cxpulse_up", service="fake") == 1.0 and service.metric("cxpulse_down") is None
        port, pid = service.port, service.pid
        assert service.kill_and_restart(timeout_s=30) >= 0 and service.port == port and service.pid != pid
        service.signal()
        assert service.wait(30) == 0 and not service.running
    log = (tmp_path / "logs" / "fake.log").read_text()
    assert log.count("start hello") == 2 and "===== start #2 of fake_service =====" in log


def test_a_service_process_that_exits_fails_its_start_with_the_log(tmp_path):
    from cxpulse_core.testing.process import ServiceProcess

    (tmp_path / "broken_service.py").write_text("print('no settings, giving up'); raise SystemExit(2)\n")
    service = ServiceProcess("broken_service", {"PYTHONPATH": str(tmp_path)}, tmp_path / "broken.log")
    with pytest.raises(AssertionError, match=r"(?s)exited.*exit code 2.*no settings, giving up"):
        service.start(timeout_s=30)
