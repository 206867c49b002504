"""Standard Webhooks signatures, checked by the spec's own Python library (`standardwebhooks`, pinned), plus our
reference receiver's window (5 min past, 30 s future) and replay refusal."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from cxpulse_notification.signing import (
    WEBHOOK_ID,
    WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP,
    ReplayGuard,
    signed_headers,
    verify_standard,
)

SECRET = b"s3cret-for-tests"
BODY = b'{"alert_id":"a-1","severity":"critical"}'


def test_the_reference_library_verifies_our_signature():
    headers = signed_headers(SECRET, BODY, "a-1")
    assert Webhook(SECRET).verify(BODY, headers) == {"alert_id": "a-1", "severity": "critical"}
    # And our receiver accepts what the library signs.
    now = datetime.now(tz=UTC)
    theirs = Webhook(SECRET).sign("msg_2", now, BODY.decode())
    assert verify_standard(SECRET, {WEBHOOK_ID: "msg_2", WEBHOOK_TIMESTAMP: str(int(now.timestamp())),
                                    WEBHOOK_SIGNATURE: theirs}, BODY)


@pytest.mark.parametrize("tamper", ["id", "timestamp", "body", "secret"])
def test_the_signature_covers_id_timestamp_and_body(tamper: str):
    headers = signed_headers(SECRET, BODY, "a-1")
    body, secret = BODY, SECRET
    if tamper == "id":
        headers[WEBHOOK_ID] = "a-2"  # the same captured request under a new id
    elif tamper == "timestamp":
        headers[WEBHOOK_TIMESTAMP] = str(int(headers[WEBHOOK_TIMESTAMP]) + 1)
    elif tamper == "body":
        body = BODY + b" "
    else:
        secret = b"other"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)
    assert not verify_standard(secret, headers, body)


def test_the_window_is_five_minutes_back_and_thirty_seconds_ahead():
    now = 1_800_000_000
    for sent, ok in ((now - 299, True), (now - 301, False), (now + 29, True), (now + 31, False), (now + 299, False)):
        assert verify_standard(SECRET, signed_headers(SECRET, BODY, "a-1", now=sent), BODY, now=now) is ok, sent


def test_the_reference_receiver_accepts_each_id_once():
    guard = ReplayGuard(window_s=330)
    assert guard.first("a-1", now=0) and not guard.first("a-1", now=10)  # replayed: refused
    assert guard.first("a-2", now=10)
    assert guard.first("a-1", now=400)  # past the window its timestamp alone rejects it; memory is freed


def test_the_deprecated_headers_are_still_sent():
    headers = signed_headers(SECRET, BODY, "a-1", now=time.time())
    assert headers["X-Cxpulse-Signature"].startswith("v1=") and headers["Idempotency-Key"] == "a-1"


def test_a_spec_receiver_processes_a_captured_request_once_whatever_the_path_or_key(webhook_receiver):
    """Our signed headers against the test plugin's receiver, which checks them with the spec's own library."""
    import httpx

    receiver = webhook_receiver(SECRET.decode())
    headers = signed_headers(SECRET, BODY, "a-1")
    base = f"http://127.0.0.1:{receiver.port}"
    statuses = [httpx.post(base + "/hooks", content=BODY, headers=headers).status_code]
    statuses.append(httpx.post(base + "/other", content=BODY, headers=headers | {"Idempotency-Key": "new"})
                    .status_code)
    statuses.append(httpx.post(base + "/hooks", content=BODY, headers=headers | {WEBHOOK_ID: "a-9"}).status_code)
    stale = signed_headers(SECRET, BODY, "a-2", now=time.time() - 400)
    statuses.append(httpx.post(base + "/hooks", content=BODY, headers=stale).status_code)
    assert statuses == [200, 200, 401, 401]
    assert len(receiver.received) == 1 and receiver.duplicates == 1 and receiver.rejected == 2
