from cxpulse_notification.limits import Outcomes, RateLimiter, TokenBucket, dedup_key


def test_token_bucket_allows_a_burst_then_the_rate():
    bucket = TokenBucket(rate_per_s=1.0, burst=3)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.take(100.5)
    assert bucket.take(101.0)
    assert bucket.take(110.0) and bucket.take(110.0) and bucket.take(110.0) and not bucket.take(110.0)  # capped


def test_rate_limiter_keeps_one_bucket_per_key_and_zero_disables():
    limiter = RateLimiter(per_minute=60, burst=1)
    assert limiter.allow("c-1", 0.0) and not limiter.allow("c-1", 0.1)
    assert limiter.allow("c-2", 0.1)  # other keys have their own bucket
    assert limiter.allow("c-1", 1.1)
    off = RateLimiter(per_minute=0, burst=1)
    assert all(off.allow("c-1", 0.0) for _ in range(100))


def test_rate_limiter_prunes_refilled_buckets_only():
    limiter = RateLimiter(per_minute=60, burst=1, max_keys=2)
    limiter.allow("a", 0.0)
    limiter.allow("b", 5.0)
    limiter.allow("c", 5.5)  # full: "a" refilled long ago and goes, "b" is still draining and stays
    assert set(limiter._buckets) == {"b", "c"}
    assert not limiter.allow("b", 5.6)


def test_outcomes_deduplicate_pending_and_final_and_forget_old_ones():
    outcomes = Outcomes(ttl_ms=1000)
    key = dedup_key("a-1", "webhook", "hook")
    assert outcomes.seen(key) is None
    outcomes.start(key)
    assert outcomes.seen(key) == "pending"
    outcomes.finish(key, "delivered", time_ms=10_000)
    assert outcomes.seen(key) == "delivered"
    assert outcomes.seen(dedup_key("a-1", "email", "x@y")) is None  # per recipient
    other = dedup_key("a-2", "webhook", "hook")
    outcomes.start(other)
    outcomes.cancel(other)  # a revoked delivery is forgotten: the next owner resumes it
    assert outcomes.seen(other) is None
    assert outcomes.prune(now_ms=11_500) == 1 and outcomes.seen(key) is None


def test_rate_limit_buckets_and_retry_starts_survive_a_restart_through_the_changelog_records():
    from cxpulse_notification.state import apply, rate_key, rate_record, retrying_record

    before = RateLimiter(per_minute=1, burst=2)
    assert before.allow("c-1", 1000.0) and before.allow("c-1", 1000.0)
    records = [(rate_key("contact", "c-1"), rate_record(before.state("c-1"))),
               ("a-1/webhook/hook", retrying_record(5_000, 5_000))]
    after, outcomes = RateLimiter(per_minute=1, burst=2), Outcomes(ttl_ms=10_000)
    for key, value in records:
        apply(outcomes, {"contact": after}, key, value)
    assert not after.allow("c-1", 1001.0)  # no fresh burst after the restart
    assert outcomes.failing_since == {"a-1/webhook/hook": 5_000} and outcomes.seen("a-1/webhook/hook") is None
    apply(outcomes, {"contact": after}, rate_key("contact", "c-1"), None)  # tombstone of a refilled bucket
    assert after.state("c-1") is None
    apply(outcomes, {}, "a-1/webhook/hook", b'{"outcome":"delivered","time":6000}')
    assert outcomes.seen("a-1/webhook/hook") == "delivered" and not outcomes.failing_since


def test_refilled_buckets_are_reported_for_tombstones():
    limiter = RateLimiter(per_minute=60, burst=1)
    limiter.allow("a", 0.0)
    limiter.allow("b", 5.0)
    assert limiter.refilled(5.5) == ["a"] and len(limiter) == 1
