import json
from types import SimpleNamespace

from cxpulse_notification.limits import RateLimiter, TokenBucket, dedup_key
from cxpulse_notification.state import DeliveryState, delivery_store, rate_key


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


def delivery_state(changelog=(), ttl_ms: int = 1000, **limiters: RateLimiter) -> DeliveryState:
    """Over core's state, restored from `changelog` (key, value, partition) records as the loop would."""
    records = [SimpleNamespace(key=lambda k=k: k.encode(), value=lambda v=v: v, partition=lambda p=p: p,
                               offset=lambda: 0) for k, v, p in changelog]
    store = delivery_store("delivered", None, read=lambda _t, parts: [r for r in records if r.partition() in parts])
    state = DeliveryState(store, ttl_ms, dict(limiters))
    store.assign([0, 1])
    state.restored([0, 1])
    return state


def test_outcomes_deduplicate_pending_and_final_and_forget_old_ones():
    state = delivery_state()
    key = dedup_key("a-1", "webhook", "hook")
    assert state.seen(0, key) is None
    state.start(key)
    assert state.seen(0, key) == "pending"
    state.finish(0, key, "delivered", now_ms=10_000)
    assert state.seen(0, key) == "delivered"
    assert state.seen(0, dedup_key("a-1", "email", "x@y")) is None  # per recipient
    other = dedup_key("a-2", "webhook", "hook")
    state.start(other)
    state.cancel(other)  # a revoked delivery is forgotten: the next owner resumes it
    assert state.seen(0, other) is None
    assert [(o.key, o.partition) for o in state.store.changes()] == [(key, 0)]
    assert state.prune(now_ms=11_500) == 1 and state.seen(0, key) is None
    assert [(o.key, o.value) for o in state.store.changes()] == [(key, None)]  # tombstoned


def test_rate_limit_buckets_and_retry_starts_survive_a_restart_through_the_changelog():
    before = delivery_state(contact=RateLimiter(per_minute=1, burst=2))
    assert before.allow(1, "contact", "c-1", 1000.0) and before.allow(1, "contact", "c-1", 1000.0)
    before.retrying(0, "a-1/webhook/hook", 5_000, 5_000)
    written = [(o.key, o.value, o.partition) for o in before.store.changes()]
    assert {(k, p) for k, _, p in written} == {(rate_key("contact", "c-1"), 1), ("a-1/webhook/hook", 0)}
    after = delivery_state([*written, ("junk", b'{"no":"outcome"}', 0)], ttl_ms=10_000,
                           contact=RateLimiter(per_minute=1, burst=2))
    assert not after.allow(1, "contact", "c-1", 1001.0)  # no fresh burst after the restart
    assert after.failing_since(0, "a-1/webhook/hook") == 5_000 and after.seen(0, "a-1/webhook/hook") is None
    assert not after.store.partition(0).exists("junk")  # unreadable: skipped
    after.finish(0, "a-1/webhook/hook", "delivered", 6_000)
    assert after.seen(0, "a-1/webhook/hook") == "delivered" and after.failing_since(0, "a-1/webhook/hook") is None


def test_the_newest_record_of_a_bucket_written_on_two_partitions_wins():
    old = json.dumps({"tokens": 2.0, "updated": 100.0}).encode()
    new = json.dumps({"tokens": 0.0, "updated": 200.0}).encode()
    key = rate_key("recipient", "webhook/hook")
    for changelog in ([(key, old, 0), (key, new, 1)], [(key, new, 0), (key, old, 1)]):
        state = delivery_state(changelog, recipient=RateLimiter(per_minute=1, burst=2))
        assert state.limiters["recipient"].state("webhook/hook") == (0.0, 200.0)
        state.forget_refilled(10_000.0)  # full again: dropped and tombstoned on both partitions
        assert sorted((o.partition, o.value) for o in state.store.changes()) == [(0, None), (1, None)]


def test_refilled_buckets_are_reported_for_tombstones():
    limiter = RateLimiter(per_minute=60, burst=1)
    limiter.allow("a", 0.0)
    limiter.allow("b", 5.0)
    assert limiter.refilled(5.5) == ["a"] and len(limiter) == 1


def test_compacting_after_pruning_keeps_what_is_left():
    state = delivery_state(contact=RateLimiter(per_minute=60, burst=1))
    for i in range(50):
        state.finish(0, f"a-{i}/webhook/hook", "delivered", now_ms=1_000 * i)
        state.allow(1, "contact", f"c-{i}", float(i))
    assert state.prune(now_ms=49_500) == 49  # outcomes older than ttl_ms (1,000 ms in delivery_state)
    assert state.forget_refilled(49.5) == 49  # every bucket but the last one is full again
    state.compact()
    assert state.seen(0, "a-49/webhook/hook") == "delivered" and state.seen(0, "a-0/webhook/hook") is None
    assert len(state.limiters["contact"]) == 1 and not state.limiters["contact"].allow("c-49", 49.6)
