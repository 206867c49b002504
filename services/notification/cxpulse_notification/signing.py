"""Webhook signatures per the Standard Webhooks spec (https://www.standardwebhooks.com): the signature covers the
message id, the timestamp and the body, so a captured request cannot be replayed under another id, and receivers
remember ids to refuse a replay of the same one.

    webhook-id: <alert id>                    (the same on every retry of one notification)
    webhook-timestamp: 1764190804             (Unix seconds)
    webhook-signature: v1,<base64 HMAC-SHA256(secret, b"<id>.<timestamp>." + body)>

The HMAC key is the configured secret's UTF-8 bytes (with the `standardwebhooks` library: `Webhook(secret.encode())`).
Deprecated, sent for one more release so existing receivers keep working: X-Cxpulse-Timestamp and
X-Cxpulse-Signature (v1=<hex HMAC over "<timestamp>.<body>">, which does not cover the id).

`verify_standard` and `ReplayGuard` are the reference receiver (see the README): timestamps at most 5 minutes old
and at most 30 seconds in the future, and every id accepted once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping

WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"
TIMESTAMP_HEADER = "X-Cxpulse-Timestamp"  # deprecated
SIGNATURE_HEADER = "X-Cxpulse-Signature"  # deprecated
IDEMPOTENCY_HEADER = "Idempotency-Key"
VERSION = "v1"
MAX_AGE_S = 300  # receivers reject timestamps older than this ...
MAX_FUTURE_S = 30  # ... or further ahead of their clock than this
MAX_SKEW_S = MAX_AGE_S  # the deprecated scheme's window


def standard_signature(secret: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return f"{VERSION},{base64.b64encode(digest).decode()}"


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The deprecated X-Cxpulse-Signature value."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def signed_headers(secret: bytes, body: bytes, idempotency_key: str, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        "Content-Type": "application/json",
        WEBHOOK_ID: idempotency_key,
        WEBHOOK_TIMESTAMP: str(timestamp),
        WEBHOOK_SIGNATURE: standard_signature(secret, idempotency_key, timestamp, body),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        IDEMPOTENCY_HEADER: idempotency_key,
    }


def _fresh(timestamp: str, now: float | None, max_age_s: float, max_future_s: float) -> int | None:
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return None
    clock = time.time() if now is None else now
    if clock - sent > max_age_s or sent - clock > max_future_s:
        return None
    return sent


def verify_standard(secret: bytes, headers: Mapping[str, str], body: bytes, now: float | None = None,
                    max_age_s: float = MAX_AGE_S, max_future_s: float = MAX_FUTURE_S) -> bool:
    """True when the timestamp is fresh and one of the space-separated v1 signatures matches id.timestamp.body."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, timestamp = lower.get(WEBHOOK_ID, ""), lower.get(WEBHOOK_TIMESTAMP, "")
    if not msg_id:
        return False
    sent = _fresh(timestamp, now, max_age_s, max_future_s)
    if sent is None:
        return False
    expected = standard_signature(secret, msg_id, sent, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in lower.get(WEBHOOK_SIGNATURE, "").split())


def verify(secret: bytes, timestamp: str, signature_header: str, body: bytes, now: float | None = None,
           max_skew_s: float = MAX_SKEW_S) -> bool:
    """The deprecated scheme: one of the comma-separated signatures matches and the timestamp is fresh."""
    sent = _fresh(timestamp, now, max_skew_s, MAX_FUTURE_S)
    if sent is None:
        return False
    expected = signature(secret, sent, body)
    return any(hmac.compare_digest(expected, candidate.strip()) for candidate in signature_header.split(","))


class ReplayGuard:
    """Ids seen within the freshness window: `first(id)` is True once per id. Anything older than the window is
    rejected by its timestamp anyway, so ids are forgotten after it (bounded memory)."""

    def __init__(self, window_s: float = MAX_AGE_S + MAX_FUTURE_S, max_ids: int = 1_000_000) -> None:
        self.window_s, self.max_ids = window_s, max_ids
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, msg_id: str, now: float | None = None) -> bool:
        clock = time.monotonic() if now is None else now
        with self._lock:
            while self._seen and (next(iter(self._seen.values())) < clock - self.window_s
                                  or len(self._seen) > self.max_ids):
                self._seen.popitem(last=False)
            if msg_id in self._seen:
                return False
            self._seen[msg_id] = clock
            return True
