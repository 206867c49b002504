"""The notification handler on core's stream loop: each alert or escalation is routed to its targets; each
delivery is deduplicated, rate limited, then attempted (core's ScheduledAttempts: a pool runs the blocking HTTP and
SMTP calls, retries wait on a heap with backoff) until it is final.

An input is answered with a Deferred: the loop stores its offset only when every delivery it caused is final
(delivered, failed + dead-lettered, deduplicated, rate_limited) and the broker acknowledged the final records. A
crash therefore re-reads every alert that was still pending; the state restored at assignment says which of its
deliveries were already final, so only the unfinished ones are attempted again."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from cxpulse_core.attempts import ScheduledAttempts
from cxpulse_core.dlq import Reject
from cxpulse_core.loop import Completion, Deferred, Incoming, LoopConfig, Output, Result
from cxpulse_core.memory import MemoryRelease
from cxpulse_core.state import ChangelogState

from . import metrics
from .limits import RateLimiter
from .notice import Delivery, Sender, log_fields, to_notice
from .outputs import DeliveryLog, failed_deadletter
from .policy import DEDUPLICATED, DELIVERED, FAILED, RATE_LIMITED, RETRY, AttemptResult, Backoff, decide
from .redrive import REDRIVE_HEADER
from .routes import Router, Target
from .settings import NotificationSettings
from .state import DeliveryState

log = logging.getLogger(__name__)


class NotificationHandler:
    def __init__(self, settings: NotificationSettings, config: LoopConfig, log_topic: str, router: Router,
                 senders: dict[str, Sender], store: ChangelogState[dict[str, Any]]) -> None:
        self.s, self.config, self.router, self.senders = settings, config, router, senders
        self.stores = [store]  # the loop restores, drops and writes it
        self.state = DeliveryState(store, int(settings.dedup_ttl_hours * 3_600_000), {
            "contact": RateLimiter(settings.contact_rate_per_min, settings.contact_burst),
            "recipient": RateLimiter(settings.recipient_rate_per_min, settings.recipient_burst)})
        self.log = DeliveryLog(log_topic)
        self.backoff = Backoff(settings.backoff_initial_s, settings.backoff_multiplier, settings.backoff_max_s,
                               settings.backoff_jitter)
        self.attempts: ScheduledAttempts[Delivery, AttemptResult] = ScheduledAttempts(
            self._attempt, _attempt_raised, settings.workers, "deliver")
        self._done: list[Completion] = []
        self._paused = False
        self._pruned = time.monotonic()
        self.memory = MemoryRelease("deliveries")

    # -- input --------------------------------------------------------------------------------------------------
    def handle(self, batch: Sequence[Incoming]) -> list[Result]:
        return [self._accept(incoming) for incoming in batch]

    def _accept(self, incoming: Incoming) -> Result:
        try:
            notice = to_notice(incoming.record.typed)
        except ValueError as exc:  # another record type (SerdeError too: one schemas/ does not define)
            return Reject("unexpected_record", str(exc), exc.__class__.__name__)
        targets = self.router.route(notice.facts())
        if not targets:
            return Reject("no_route", f"no route matches {notice.facts()}", "RoutingError")
        partition = incoming.message.partition()
        source = Deferred(parts=0)
        redrive = _header(incoming.message.headers(), REDRIVE_HEADER)
        contact_ok = None
        for target in targets:
            delivery = Delivery(notice, target, source, partition)
            earlier = self.state.seen(partition, delivery.key)
            if redrive == delivery.key and earlier == FAILED:
                # An operator's redrive of a dead letter: a fresh budget, and past the rate limits, which this
                # alert passed when it first came.
                log.info("redriven delivery", extra={"alert_id": notice.alert_id, "recipient": target.recipient})
                self._start(delivery)
                continue
            if earlier is not None:
                source.outputs += self._finish(delivery, DEDUPLICATED, error=f"already {earlier}")
                continue
            now = time.time()
            if contact_ok is None:
                contact_ok = self.state.allow(partition, "contact", notice.contact_id, now)
            if not contact_ok:
                source.outputs += self._finish(delivery, RATE_LIMITED,
                                               error=f"over the per-contact limit ({notice.contact_id})")
            elif not self.state.allow(partition, "recipient", f"{target.channel}/{target.recipient}", now):
                source.outputs += self._finish(delivery, RATE_LIMITED, error="over the per-recipient limit")
            else:
                delivery.failing_since_ms = self.state.failing_since(partition, delivery.key)  # before a restart
                self._start(delivery)
        return source if source.parts else source.outputs

    def _start(self, delivery: Delivery) -> None:
        self.state.start(delivery.key)
        delivery.source.parts += 1  # the input waits for this delivery's final outcome
        self.attempts.schedule(delivery)

    # -- attempts ---------------------------------------------------------------------------------------------
    def _attempt(self, delivery: Delivery) -> AttemptResult:  # on a pool thread: no shared state here
        started = time.perf_counter()
        try:
            return self.senders[delivery.target.channel].send(delivery.notice, delivery.target)
        finally:
            metrics.ATTEMPT_DURATION.labels(metrics.SERVICE, delivery.target.channel).observe(
                time.perf_counter() - started)

    def completions(self) -> list[Completion]:
        self.attempts.dispatch_due()
        self._record(self.attempts.finished())
        self._housekeeping()
        done, self._done = self._done, []
        return done

    def _record(self, finished: list[tuple[Delivery, AttemptResult]]) -> None:
        for delivery, result in finished:
            now_ms = int(time.time() * 1000)
            if not result.ok and result.retryable and delivery.failing_since_ms is None:
                delivery.failing_since_ms = now_ms
                self.state.retrying(delivery.partition, delivery.key, now_ms, now_ms)
            failing_s = (now_ms - delivery.failing_since_ms) / 1000 if delivery.failing_since_ms else 0.0
            decision = decide(result, delivery.attempt, self.backoff, self.s.retry_after_max_s, failing_s=failing_s,
                              budget_s=self.s.retry_budget_s, max_attempts=self.s.max_attempts)
            if decision.outcome == RETRY and delivery.cancelled:
                self.state.cancel(delivery.key)  # its partition went to another consumer, which resumes it
            elif decision.outcome == RETRY:
                metrics.RETRIED.labels(metrics.SERVICE, delivery.target.channel).inc()
                self._log_retry(delivery, result, decision.delay_s)
                delivery.attempt += 1
                self.attempts.schedule(delivery, decision.delay_s)
            else:
                self._done.append(Completion(delivery.source, self._finish(delivery, decision.outcome, result,
                                                                           decision.reason)))
                if decision.outcome == DELIVERED and delivery.attempt > 1:
                    self._expedite(delivery.target)

    def _log_retry(self, delivery: Delivery, result: AttemptResult, delay_s: float) -> None:
        """The first failed attempt, then at most one record per `retry_log_interval_s`: a long outage must not
        flood the delivery log (the metric counts every attempt; the final outcome is always logged)."""
        now = time.monotonic()
        if delivery.retry_logged is not None and now - delivery.retry_logged < self.s.retry_log_interval_s:
            return
        delivery.retry_logged = now
        record = self.log.record(delivery, RETRY, result, next_attempt_ms=int((time.time() + delay_s) * 1000))
        self._done.append(Completion(None, [record]))  # no input waits for it
        log.info("delivery attempt failed, will retry", extra=log_fields(delivery, result, delay_s))

    def _expedite(self, target: Target) -> None:
        """A retried delivery got through: the receiver is back, so its other waiting retries go now rather
        than at the end of their (by now long) backoff."""
        moved = self.attempts.bring_forward(lambda waiting: waiting.target == target and waiting.attempt > 1)
        if moved:
            log.info("receiver recovered: retries brought forward", extra={"recipient": target.recipient,
                                                                            "retries": moved})

    def _finish(self, delivery: Delivery, outcome: str, result: AttemptResult | None = None, reason: str = "",
                error: str | None = None) -> list[Output]:
        """A final outcome: metrics, its state (except for duplicates), its log record, and for a failure the
        input's dead letter."""
        channel = delivery.target.channel
        outputs = [self.log.record(delivery, outcome, result, error)]
        if outcome == DELIVERED:
            metrics.SENT.labels(metrics.SERVICE, channel).inc()
            metrics.DELIVERY_LATENCY.labels(metrics.SERVICE, channel).observe(
                time.time() - delivery.notice.origin_time / 1000)
        elif outcome == FAILED:
            metrics.FAILED.labels(metrics.SERVICE, channel, reason).inc()
            log.warning("delivery failed, dead-lettered", extra=log_fields(delivery, result) | {"reason": reason})
            outputs.append(failed_deadletter(self.config, delivery, reason, result, error))
        else:
            metrics.SKIPPED.labels(metrics.SERVICE, channel, outcome).inc()
            log.info("delivery skipped", extra=log_fields(delivery, result) | {"outcome": outcome, "detail": error})
        if outcome != DEDUPLICATED:
            self.state.finish(delivery.partition, delivery.key, outcome, int(time.time() * 1000))
        return outputs

    # -- the loop's hooks: waiting, flow control, rebalances, shutdown ----------------------------------------
    def wait_s(self) -> float:
        return self.attempts.wait_s()

    def backlogged(self) -> bool:
        """Consumption pauses at max_pending unfinished deliveries and resumes below half of it."""
        pending = len(self.state.pending)
        self._paused = pending >= (self.s.max_pending // 2 if self._paused else self.s.max_pending)
        return self._paused

    def _housekeeping(self) -> None:
        metrics.PENDING.labels(metrics.SERVICE).set(len(self.state.pending))
        if time.monotonic() - self._pruned > self.s.prune_interval_s:
            self._pruned = time.monotonic()
            freed = self.state.prune(int(time.time() * 1000)) + self.state.forget_refilled(time.time())
            self.memory.note(freed, self.state.compact)  # 0 included: a tail is released on a later call

    def on_assign(self, partitions: list[int]) -> None:
        self.state.restored(partitions)  # the loop restored the partitions' state just before

    def on_revoke(self, partitions: list[int]) -> None:
        """The next owner re-reads these partitions' unfinished inputs and resumes them: scheduled deliveries are
        dropped, running ones finish and are recorded (the loop then produces them, and commits)."""
        revoked = set(partitions)
        for delivery in self.attempts.cancel(lambda d: d.partition in revoked):
            self.state.cancel(delivery.key)
        for delivery in self.attempts.running():
            if delivery.partition in revoked:
                delivery.cancelled = True
        self._record(self.attempts.settle(self.s.http_timeout_s + 5))

    def close(self) -> None:
        """Attempts running now finish and are recorded; scheduled retries are not: their inputs' offsets stay
        unstored, and the next start resumes them."""
        log.info("shutting down", extra={"pending": len(self.state.pending),
                                         "in_flight": len(self.attempts.running())})
        self._record(self.attempts.settle(self.s.http_timeout_s + 5))
        self.attempts.close()


def _attempt_raised(delivery: Delivery, exc: Exception) -> AttemptResult:
    """A bug in a channel client must not lose the delivery: it is retried."""
    return AttemptResult(False, True, error=f"{exc.__class__.__name__}: {exc}"[:300])


def _header(headers: list[tuple[str, bytes]] | None, name: str) -> str | None:
    for key, value in headers or []:
        if key == name and value is not None:
            return value.decode("utf-8", "replace")
    return None
