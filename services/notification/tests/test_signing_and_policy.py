import random
from datetime import UTC, datetime

from cxpulse_notification.policy import (
    DELIVERED,
    FAILED,
    RETRY,
    AttemptResult,
    Backoff,
    classify_http,
    classify_smtp,
    decide,
    parse_retry_after,
)
from cxpulse_notification.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature, signed_headers, verify

SECRET = b"s3cret"


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    # Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
    assert signature(SECRET, 1700000000, b'{"a":1}') == (
        "v1=" + __import__("hmac").new(SECRET, b'1700000000.{"a":1}', "sha256").hexdigest())


def test_verify_accepts_a_fresh_signature_and_rejects_tampering_replays_and_other_secrets():
    body = b'{"alert_id":"a-1"}'
    headers = signed_headers(SECRET, body, "a-1", now=1_700_000_000)
    ts, sig = headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]
    assert headers["Idempotency-Key"] == "a-1"
    assert verify(SECRET, ts, sig, body, now=1_700_000_010)
    assert not verify(SECRET, ts, sig, body + b" ", now=1_700_000_010)  # body changed
    assert not verify(b"other", ts, sig, body, now=1_700_000_010)  # wrong secret
    assert not verify(SECRET, ts, sig, body, now=1_700_000_000 + 301)  # replayed after the max skew
    assert not verify(SECRET, "1700000001", sig, body, now=1_700_000_010)  # timestamp changed
    assert not verify(SECRET, "yesterday", sig, body)
    assert verify(SECRET, ts, f"v1=deadbeef, {sig}", body, now=1_700_000_010)  # rotation: any listed one


def test_backoff_is_exponential_capped_and_jittered_down():
    plain = Backoff(initial_s=0.5, multiplier=2, max_s=4, jitter=0)
    assert [plain.delay(n) for n in range(1, 7)] == [0.5, 1, 2, 4, 4, 4]
    jittered = Backoff(initial_s=1, multiplier=2, max_s=30, jitter=0.5)
    rng = random.Random(7)
    delays = [jittered.delay(3, rng) for _ in range(200)]
    assert all(2.0 <= d <= 4.0 for d in delays) and max(delays) - min(delays) > 1.0


def test_retry_after_as_seconds_or_http_date():
    now = datetime(2025, 11, 26, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 26 Nov 2025 12:00:30 GMT", now) == 30
    assert parse_retry_after("Wed, 26 Nov 2025 11:00:00 GMT", now) == 0  # in the past: now
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None and parse_retry_after("-3") is None


def test_http_classification():
    assert classify_http(204).ok
    assert classify_http(503).retryable and classify_http(500).retryable
    assert not classify_http(400).retryable and not classify_http(404).retryable and not classify_http(302).retryable
    throttled = classify_http(429, "7")
    assert throttled.retryable and throttled.retry_after_s == 7


def test_smtp_classification_transient_4xx_permanent_5xx():
    assert classify_smtp(250).ok
    assert classify_smtp(451, "try later").retryable
    assert not classify_smtp(550, "no such user").retryable


def test_decisions():
    backoff = Backoff(0.5, 2, 30, 0)

    def decide_(result, attempt, failing_s=0.0, budget_s=1800.0, max_attempts=0, retry_after_max_s=300):
        return decide(result, attempt, backoff, retry_after_max_s, failing_s=failing_s, budget_s=budget_s,
                      max_attempts=max_attempts)

    assert decide_(AttemptResult(ok=True), 1).outcome == DELIVERED
    assert decide_(AttemptResult(False, False, 400), 1) == decide_(AttemptResult(False, False, 404), 3)
    rejected = decide_(AttemptResult(False, False, 400), 1)
    assert (rejected.outcome, rejected.reason) == (FAILED, "rejected")
    retry = decide_(AttemptResult(False, True, 503), 2)
    assert (retry.outcome, retry.delay_s) == (RETRY, 1.0)
    # The budget is time: attempt 500 is still retried inside it, and a 30-minute outage is ridden out.
    assert decide_(AttemptResult(False, True, 503), 500, failing_s=1799).outcome == RETRY
    assert decide_(AttemptResult(False, True, 503), 500, failing_s=1799).delay_s == 1.0  # lands on the end
    exhausted = decide_(AttemptResult(False, True, 503), 61, failing_s=1800)
    assert (exhausted.outcome, exhausted.reason) == (FAILED, "retries_exhausted")
    capped = decide_(AttemptResult(False, True, 503), 5, max_attempts=5)
    assert (capped.outcome, capped.reason) == (FAILED, "retries_exhausted")
    assert decide_(AttemptResult(False, True, 429, retry_after_s=20), 1).delay_s == 20
    assert decide_(AttemptResult(False, True, 429, retry_after_s=9999), 1, retry_after_max_s=60).delay_s == 60
    assert decide_(AttemptResult(False, True, 429, retry_after_s=0), 3, retry_after_max_s=60).delay_s == 2
