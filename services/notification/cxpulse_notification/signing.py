"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with a shared secret, so receivers can check who
sent a request and reject replays older than a few minutes.

    X-Cxpulse-Timestamp: 1764190804          (Unix seconds)
    X-Cxpulse-Signature: v1=<hex HMAC-SHA256(secret, b"1764190804." + body)>

`verify` is also the reference implementation for receivers (see the README)."""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Cxpulse-Timestamp"
SIGNATURE_HEADER = "X-Cxpulse-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
VERSION = "v1"
MAX_SKEW_S = 300  # receivers should reject timestamps further than this from their clock


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def signed_headers(secret: bytes, body: bytes, idempotency_key: str, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        IDEMPOTENCY_HEADER: idempotency_key,
    }


def verify(secret: bytes, timestamp: str, signature_header: str, body: bytes, now: float | None = None,
           max_skew_s: float = MAX_SKEW_S) -> bool:
    """True when one of the comma-separated signatures matches and the timestamp is within `max_skew_s`."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > max_skew_s:
        return False
    expected = signature(secret, sent, body)
    return any(hmac.compare_digest(expected, candidate.strip()) for candidate in signature_header.split(","))
