"""The delivery loop. One thread polls Kafka and owns all state; a small pool runs the (blocking) attempts and
hands results back through a queue; a heap orders the attempts by due time.

An input's offset is stored only when every delivery it caused is final (delivered, failed + dead-lettered,
deduplicated, rate_limited) and the broker acknowledged the final records (log, changelog, dead letter). A
crash therefore re-reads every alert that was still pending; the changelog restored at assignment says which
of its deliveries were already final, so only the unfinished ones are attempted again."""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from cxpulse_core.health import Health
from cxpulse_core.loop import without_errors
from cxpulse_core.metrics import report_lag
from cxpulse_core.offsets import OffsetTracker
from cxpulse_core.serde import Serde, SerdeError

from . import metrics
from .limits import Outcomes, RateLimiter
from .model import Delivery, Sender, Source, Topics, log_fields, to_notice
from .outputs import Outputs
from .policy import DEDUPLICATED, DELIVERED, FAILED, RATE_LIMITED, RETRY, AttemptResult, Backoff, decide
from .redrive import REDRIVE_HEADER
from .routes import Router, Target
from .settings import NotificationSettings
from .state import rate_key, rate_record, retrying_record

log = logging.getLogger(__name__)


class NotificationService:
    def __init__(self, settings: NotificationSettings, topics: Topics, consumer: Consumer, producer: Producer,
                 serde: Serde, router: Router, senders: dict[str, Sender], health: Health,
                 restore: Callable[[Outcomes, dict[str, RateLimiter]], int]) -> None:
        self.s, self.topics, self.consumer, self.router, self.senders = settings, topics, consumer, router, senders
        self.health, self.serde, self.restore = health, serde, restore
        self.offsets = OffsetTracker()
        self.outcomes = Outcomes(int(settings.dedup_ttl_hours * 3_600_000))
        self.out = Outputs(producer, serde, topics.log, topics.delivered, topics.deadletter)
        self.contact_limit = RateLimiter(settings.contact_rate_per_min, settings.contact_burst)
        self.recipient_limit = RateLimiter(settings.recipient_rate_per_min, settings.recipient_burst)
        self.limiters = {"contact": self.contact_limit, "recipient": self.recipient_limit}
        self.backoff = Backoff(settings.backoff_initial_s, settings.backoff_multiplier, settings.backoff_max_s,
                               settings.backoff_jitter)
        self.heap: list[Delivery] = []
        self.in_flight: dict[int, Delivery] = {}
        self.results: queue.SimpleQueue[tuple[Delivery, AttemptResult]] = queue.SimpleQueue()
        self.pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="deliver")
        self._seq = itertools.count()
        self._stopping = False
        self._paused = False
        self._pruned = time.monotonic()
        self._lag_reported = 0.0

    def stop(self, *_: object) -> None:
        self._stopping = True

    def run(self) -> None:
        self.consumer.subscribe([self.topics.alerts, self.topics.escalations], on_assign=self._on_assign,
                                on_revoke=self._on_revoke, on_lost=self._on_lost)
        try:
            while not self._stopping:
                self.health.beat()
                self._flow_control()
                for message in self._poll():
                    self._accept(message)
                self._dispatch_due()
                self._collect()
                self.out.poll()
                self._store_offsets()
                self._housekeeping()
        finally:
            self._shutdown()

    # --- input -----------------------------------------------------------------------------------------------
    def _poll(self) -> list[Message]:
        # With attempts in flight, poll briefly so their outcomes are logged (and offsets stored) promptly.
        wait = 0.0 if not self.results.empty() else 0.01 if self.in_flight else 0.1
        if self.heap:
            wait = max(0.0, min(wait, self.heap[0].due - time.monotonic()))
        # consume(n, timeout) waits for n records or the timeout: take what is there, else wait for one.
        return without_errors(self.consumer.consume(500, timeout=0) or self.consumer.consume(1, timeout=wait),
                              metrics.SERVICE)

    def _accept(self, message: Message) -> None:
        metrics.MESSAGES_IN.labels(metrics.SERVICE, message.topic()).inc()
        tp = (message.topic(), message.partition())
        try:
            decoded = self.serde.decode(message.value() or b"", message.topic())
            notice = to_notice(decoded.schema, decoded.value)
        except (SerdeError, ValueError, KeyError) as exc:
            entry = self.offsets.track(tp, message.offset(), 1)
            reason = "decode_error" if isinstance(exc, SerdeError) else "unexpected_record"
            self.out.deadletter(_source(message, entry), reason, str(exc), exc.__class__.__name__)
            return
        targets = self.router.route(notice.facts())
        entry = self.offsets.track(tp, message.offset(), max(1, len(targets)))
        source = _source(message, entry)
        if not targets:
            self.out.deadletter(source, "no_route", f"no route matches {notice.facts()}", "RoutingError")
            return
        now, contact_ok = time.monotonic(), None
        redrive = _header(message, REDRIVE_HEADER)
        for target in targets:
            delivery = Delivery(now, next(self._seq), notice, target, source)
            earlier = self.outcomes.seen(delivery.key)
            if redrive == delivery.key and earlier == FAILED:
                # An operator's redrive of a dead letter: a fresh budget, and past the rate limits, which this
                # alert passed when it first came.
                log.info("redriven delivery", extra={"alert_id": notice.alert_id, "recipient": target.recipient})
                self.outcomes.failing_since.pop(delivery.key, None)
                self.outcomes.start(delivery.key)
                heapq.heappush(self.heap, delivery)
                continue
            if earlier is not None:
                self._finish(delivery, DEDUPLICATED, error=f"already {earlier}")
                continue
            if contact_ok is None:
                contact_ok = self._allow("contact", notice.contact_id)
            if not contact_ok:
                self._finish(delivery, RATE_LIMITED, error=f"over the per-contact limit ({notice.contact_id})")
            elif not self._allow("recipient", f"{target.channel}/{target.recipient}"):
                self._finish(delivery, RATE_LIMITED, error="over the per-recipient limit")
            else:
                delivery.failing_since_ms = self.outcomes.failing_since.get(delivery.key)  # failing before a restart
                self.outcomes.start(delivery.key)
                heapq.heappush(self.heap, delivery)

    def _allow(self, name: str, key: str) -> bool:
        """Takes a token from a rate-limit bucket and writes the bucket to the changelog (restored on restart)."""
        limiter = self.limiters[name]
        allowed = limiter.allow(key, time.time())
        if limiter.rate_per_s > 0:
            self.out.state(rate_key(name, key), rate_record(limiter.state(key)))
        return allowed

    # --- attempts --------------------------------------------------------------------------------------------
    def _dispatch_due(self) -> None:
        now = time.monotonic()
        while self.heap and self.heap[0].due <= now:
            delivery = heapq.heappop(self.heap)
            if not delivery.cancelled:
                self.in_flight[delivery.seq] = delivery
                self.pool.submit(self._attempt, delivery)

    def _attempt(self, delivery: Delivery) -> None:  # on a pool thread: no shared state here
        started = time.perf_counter()
        try:
            result = self.senders[delivery.target.channel].send(delivery.notice, delivery.target)
        except Exception as exc:  # a bug in a channel client must not lose the delivery: retry it
            log.exception("delivery attempt raised", extra={"alert_id": delivery.notice.alert_id})
            result = AttemptResult(False, True, error=f"{exc.__class__.__name__}: {exc}"[:300])
        metrics.ATTEMPT_DURATION.labels(metrics.SERVICE, delivery.target.channel).observe(
            time.perf_counter() - started)
        self.results.put((delivery, result))

    def _collect(self, block_s: float = 0.0) -> None:
        while True:
            try:
                delivery, result = self.results.get(timeout=block_s) if block_s else self.results.get_nowait()
            except queue.Empty:
                return
            block_s = 0.0
            del self.in_flight[delivery.seq]
            now_ms = int(time.time() * 1000)
            if not result.ok and result.retryable and delivery.failing_since_ms is None:
                delivery.failing_since_ms = now_ms
                self.outcomes.failing_since[delivery.key] = now_ms
                self.out.state(delivery.key, retrying_record(now_ms, now_ms))
            failing_s = (now_ms - delivery.failing_since_ms) / 1000 if delivery.failing_since_ms else 0.0
            decision = decide(result, delivery.attempt, self.backoff, self.s.retry_after_max_s, failing_s=failing_s,
                              budget_s=self.s.retry_budget_s, max_attempts=self.s.max_attempts)
            if decision.outcome == RETRY and delivery.cancelled:
                self.outcomes.cancel(delivery.key)  # its partition went to another consumer, which resumes it
            elif decision.outcome == RETRY:
                metrics.RETRIED.labels(metrics.SERVICE, delivery.target.channel).inc()
                self._log_retry(delivery, result, decision.delay_s)
                delivery.attempt += 1
                delivery.due = time.monotonic() + decision.delay_s
                heapq.heappush(self.heap, delivery)
            else:
                self._finish(delivery, decision.outcome, result, decision.reason)
                if decision.outcome == DELIVERED and delivery.attempt > 1:
                    self._expedite(delivery.target)

    def _log_retry(self, delivery: Delivery, result: AttemptResult, delay_s: float) -> None:
        """The first failed attempt, then at most one record per `retry_log_interval_s`: a long outage must not
        flood the delivery log (the metric counts every attempt; the final outcome is always logged)."""
        now = time.monotonic()
        if delivery.retry_logged is not None and now - delivery.retry_logged < self.s.retry_log_interval_s:
            return
        delivery.retry_logged = now
        self.out.log(delivery, RETRY, result, next_attempt_ms=int((time.time() + delay_s) * 1000))
        log.info("delivery attempt failed, will retry", extra=log_fields(delivery, result, delay_s))

    def _expedite(self, target: Target) -> None:
        """A retried delivery got through: the receiver is back, so its other waiting retries go now rather
        than at the end of their (by now long) backoff."""
        now = time.monotonic()
        moved = 0
        for waiting in self.heap:
            if waiting.target == target and waiting.attempt > 1 and waiting.due > now:
                waiting.due = now
                moved += 1
        if moved:
            heapq.heapify(self.heap)
            log.info("receiver recovered: retries brought forward", extra={"recipient": target.recipient,
                                                                            "retries": moved})

    def _finish(self, delivery: Delivery, outcome: str, result: AttemptResult | None = None, reason: str = "",
                error: str | None = None) -> None:
        channel = delivery.target.channel
        if outcome == DELIVERED:
            metrics.SENT.labels(metrics.SERVICE, channel).inc()
            metrics.DELIVERY_LATENCY.labels(metrics.SERVICE, channel).observe(
                time.time() - delivery.notice.origin_time / 1000)
        elif outcome == FAILED:
            metrics.FAILED.labels(metrics.SERVICE, channel, reason).inc()
            log.warning("delivery failed, dead-lettered", extra=log_fields(delivery, result) | {"reason": reason})
        else:
            metrics.SKIPPED.labels(metrics.SERVICE, channel, outcome).inc()
            log.info("delivery skipped", extra=log_fields(delivery, result) | {"outcome": outcome, "detail": error})
        if outcome != DEDUPLICATED:
            self.outcomes.finish(delivery.key, outcome, int(time.time() * 1000))
        self.out.final(delivery, outcome, result, reason, error)

    # --- offsets, flow control, rebalances --------------------------------------------------------------------
    def _store_offsets(self) -> None:
        self.out.raise_if_failed()
        if self.health.fatal:
            raise RuntimeError(f"fatal Kafka client error: {self.health.fatal}")
        advanced = self.offsets.committable()
        if advanced:
            self.consumer.store_offsets(offsets=[TopicPartition(t, p, o) for (t, p), o in advanced.items()])

    def _flow_control(self) -> None:
        pending = len(self.outcomes.pending)
        if not self._paused and pending >= self.s.max_pending:
            self.consumer.pause(self.consumer.assignment())
            self._paused = True
            log.warning("too many pending deliveries: consumption paused", extra={"pending": pending})
        elif self._paused and pending < self.s.max_pending // 2:
            self.consumer.resume(self.consumer.assignment())
            self._paused = False

    def _housekeeping(self) -> None:
        metrics.PENDING.labels(metrics.SERVICE).set(len(self.outcomes.pending))
        if time.monotonic() - self._lag_reported > 5:
            self._lag_reported = time.monotonic()
            report_lag(self.consumer, metrics.SERVICE, self.s.group_id)
        if time.monotonic() - self._pruned > 60:
            self._pruned = time.monotonic()
            self.outcomes.prune(int(time.time() * 1000))
            for name, limiter in self.limiters.items():  # full buckets hold nothing: drop them, tombstone them
                for key in limiter.refilled(time.time()):
                    self.out.state(rate_key(name, key), None)

    def _settle_in_flight(self, timeout_s: float) -> None:
        """Waits for the attempts running now and records their outcomes."""
        deadline = time.monotonic() + timeout_s
        while self.in_flight and time.monotonic() < deadline:
            self._collect(block_s=0.2)
        self.out.flush()
        self._store_offsets()

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        started = time.monotonic()
        read = self.restore(self.outcomes, self.limiters)
        log.info("partitions assigned; outcomes restored", extra={
            "partitions": [f"{p.topic}[{p.partition}]" for p in partitions], "changelog_records": read,
            "restore_s": round(time.monotonic() - started, 3)})
        self.health.ready = True
        metrics.READY.labels(metrics.SERVICE).set(1)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition], lost: bool = False) -> None:
        revoked = {(p.topic, p.partition) for p in partitions}
        for delivery in self.heap:  # the next owner re-reads these inputs and resumes them
            if (delivery.source.topic, delivery.source.partition) in revoked and not delivery.cancelled:
                delivery.cancelled = True
                self.outcomes.cancel(delivery.key)
        for delivery in self.in_flight.values():
            if (delivery.source.topic, delivery.source.partition) in revoked:
                delivery.cancelled = True
        self._settle_in_flight(self.s.http_timeout_s + 5)
        if not lost:
            _commit(consumer)
        self.offsets.forget(list(revoked))
        log.info("partitions revoked", extra={"partitions": sorted(f"{t}[{p}]" for t, p in revoked), "lost": lost})

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._on_revoke(consumer, partitions, lost=True)

    def _shutdown(self) -> None:
        log.info("shutting down", extra={"pending": len(self.outcomes.pending), "in_flight": len(self.in_flight)})
        try:
            # Attempts running now finish and are recorded; scheduled retries are not: their inputs' offsets
            # stay unstored, and the next start resumes them.
            self._settle_in_flight(self.s.http_timeout_s + 5)
            _commit(self.consumer)
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.consumer.close()
            self.health.ready = False
            metrics.READY.labels(metrics.SERVICE).set(0)


def _header(message: Message, name: str) -> str | None:
    for key, value in message.headers() or []:
        if key == name and value is not None:
            return value.decode("utf-8", "replace")
    return None


def _source(message: Message, entry: list[int]) -> Source:
    return Source(message.topic(), message.partition(), message.offset(), message.key(), message.value() or b"",
                  list(message.headers() or []), entry)


def _commit(consumer: Consumer) -> None:
    try:
        consumer.commit(asynchronous=False)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError._NO_OFFSET:
            log.warning("commit failed", extra={"error": str(exc)})
