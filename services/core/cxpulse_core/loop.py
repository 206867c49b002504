"""The stream loop every confluent-kafka service runs: consume a batch -> decode -> handle -> produce ->
store offsets once the broker acknowledged every output of an input (at-least-once)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from . import metrics, produced
from .dlq import HEADER_PREFIX, InvalidRatioLimit, Reject, deadletter_headers
from .health import Health
from .offsets import OffsetTracker
from .serde import Decoded, Serde, SerdeError

log = logging.getLogger(__name__)

# Errors a broker restart, a coordinator move or a network blip produce: the client reconnects by itself, or a
# retry of the call gets past them. Everything else the loop does not know how to get past ends the process.
_TRANSIENT = {KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._TIMED_OUT, KafkaError._RESOLVE,
              KafkaError._WAIT_COORD, KafkaError._MSG_TIMED_OUT, KafkaError.REQUEST_TIMED_OUT,
              KafkaError.NETWORK_EXCEPTION, KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
              KafkaError.COORDINATOR_NOT_AVAILABLE, KafkaError.NOT_LEADER_FOR_PARTITION,
              KafkaError.LEADER_NOT_AVAILABLE, KafkaError.CONCURRENT_TRANSACTIONS}


def transient(error: KafkaError) -> bool:
    return not error.fatal() and (error.retriable() or error.code() in _TRANSIENT)


def without_errors(messages: Sequence[Message], service: str) -> list[Message]:
    """The records of a consume() call. Error events that only report a broker going away or coming back are
    counted (and logged, throttled) and skipped: the consumer reconnects and resumes by itself. Others raise."""
    good = []
    for message in messages:
        error = message.error()
        if error is None:
            good.append(message)
        elif error.code() == KafkaError._PARTITION_EOF:
            continue
        elif transient(error):
            metrics.child(metrics.BROKER_ERRORS, service, error.name()).inc()
            log.warning("consumer error, retrying", extra={"error": str(error)})
        else:
            raise KafkaException(error)
    return good


@dataclass(frozen=True)
class Output:
    topic: str
    key: str
    schema: str  # full Avro record name; "" sends `value` as raw bytes (value must then be bytes)
    value: Any
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    partition: int | None = None  # None: by key; set for changelogs, which must follow their input's partition


@dataclass(frozen=True)
class Incoming:
    message: Message
    record: Decoded | None  # None when the loop does not decode (the handler reads message.value())


@dataclass(eq=False)
class Deferred:
    """A handler's answer for an input whose work finishes later (notification's deliveries, with retries): its
    `outputs` are produced now, and its offset is stored only once `parts` Completions for it arrived (from the
    handler's completions()) and the broker acknowledged every output of all of them. Not in transactional loops."""

    parts: int = 1
    outputs: list[Output] = field(default_factory=list)
    message: Message | None = None  # set by the loop: the input (for dead letters built later)
    entry: list[int] | None = None  # set by the loop: the input's OffsetTracker entry


@dataclass(frozen=True)
class Completion:
    """One finished part of a Deferred input (None: outputs no input waits for), with the outputs it gives."""

    deferred: Deferred | None
    outputs: Sequence[Output] = ()


Result = Sequence[Output] | Reject | Deferred

# Produce errors caused by the record itself (not by the cluster): retrying or restarting cannot help, so the
# input goes to the dead-letter topic instead of ending the process on every restart.
RECORD_ERRORS = frozenset({KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.INVALID_RECORD, KafkaError.INVALID_MSG,
                           KafkaError.INVALID_MSG_SIZE, KafkaError.RECORD_LIST_TOO_LARGE,
                           KafkaError.INVALID_TIMESTAMP})


class Handler(Protocol):
    """Handlers may also define on_assign(partitions: list[int]) / on_revoke(partitions: list[int]) to load and
    drop per-partition state of their own, and `stores`: the cxpulse_core.state.ChangelogState objects the loop
    restores on assignment (before on_assign), drops on revoke (after on_revoke) and whose changes it writes with
    each batch's outputs.

    A handler that answers Deferred also defines completions() -> list[Completion] (called every turn of the
    loop, after on_revoke and after close()), and may define wait_s() -> float (how long the loop may wait for
    input: its next due work), backlogged() -> bool (pause consumption while true) and close() (finish what is
    running on shutdown)."""

    def handle(self, batch: Sequence[Incoming]) -> Sequence[Result]:
        """One result per input, in order: outputs to produce (possibly none) or a rejection.

        A transactional handler may define prepare(part: Sequence[Incoming]): work that reads no state (sentiment:
        scoring the texts), which the loop runs on the next batch while the previous batch's transaction commits.
        It may be called for parts of a batch (the batch, then what arrived during the commit); handle() then
        gets the whole batch, with the same Incoming objects.

        A handler may define deadletter_value(message) -> bytes: what its dead letters keep instead of the
        original bytes (ingest: the record with PII redacted)."""


@dataclass(frozen=True)
class LoopConfig:
    service: str
    group_id: str
    topics: Sequence[str]
    deadletter_topic: str
    decode: bool = True  # decode Avro values with the serde before handing them over
    max_batch: int = 500
    max_wait_ms: int = 0  # after the first record, wait this long for a fuller batch (micro-batching)
    poll_timeout_s: float = 0.5
    # Exactly-once: each batch's outputs, state changelog and input offsets commit in one Kafka transaction
    # (the producer needs a transactional.id, the consumer enable.auto.commit=false).
    transactional: bool = False
    # A dead letter's value is cut to this size (header cxpulse.error.value.truncated gives the original's), so
    # that an input too large to forward can still be dead-lettered; Kafka's default limit is 1 MB.
    deadletter_max_bytes: int = 256 * 1024
    consumer_config: Mapping[str, Any] = field(default_factory=dict)  # extra librdkafka settings of the consumer


def deadletter(config: LoopConfig, message: Message, reject: Reject, extra: Sequence[tuple[str, bytes]] = (),
               value: bytes | None = None) -> Output:
    """The dead letter of `message` (counted in cxpulse_deadletters): its key and bytes (or `value`, e.g. redacted;
    cut to config.deadletter_max_bytes), the reason and source position in headers, then `extra` headers."""
    metrics.child(metrics.DEADLETTERS, config.service, reject.reason).inc()
    headers = deadletter_headers(reject, config.service, message.topic(), message.partition(), message.offset(),
                                 message.headers()) + list(extra)
    key = message.key().decode("utf-8", "replace") if message.key() else ""
    value = (message.value() or b"") if value is None else value
    if len(value) > config.deadletter_max_bytes:
        headers.append((HEADER_PREFIX + "value.truncated", str(len(value)).encode()))
        value = value[:config.deadletter_max_bytes]
    return Output(config.deadletter_topic, key, "", value, headers)


Decodings = tuple[list[Result | None], list[Incoming], list[int]]  # StreamLoop._decode's answer


def _assigned_only(batch: list[Message], incoming: Decodings,
                   assigned: set[tuple[str, int]]) -> tuple[list[Message], Decodings]:
    """The batch without records of partitions revoked while it was being read (a rebalance inside one of its
    consume calls): their state is gone and their offsets are the new owner's to commit, so handling them here
    would write outputs and state the new owner writes too."""
    keep = [i for i, m in enumerate(batch) if (m.topic(), m.partition()) in assigned]
    if len(keep) == len(batch):
        return batch, incoming
    results, decoded, positions = incoming
    at = {i: n for n, i in enumerate(positions)}  # batch index -> index in decoded
    new_positions = [k for k, i in enumerate(keep) if i in at]
    return ([batch[i] for i in keep],
            ([results[i] for i in keep], [decoded[at[i]] for i in keep if i in at], new_positions))


class StreamLoop:
    def __init__(self, config: LoopConfig, consumer: Consumer, producer: Producer, serde: Serde,
                 handler: Handler, health: Health, limit: InvalidRatioLimit) -> None:
        self.config, self.consumer, self.producer, self.serde = config, consumer, producer, serde
        self.handler, self.health, self.limit = handler, health, limit
        self.offsets = OffsetTracker()
        self._stopping = False
        self._delivery_error: str | None = None
        self._lag_reported = 0.0
        # Outputs the broker refused for a reason of their own (RECORD_ERRORS): their inputs are dead-lettered
        # in their place, from the loop (delivery callbacks run inside poll/flush).
        # (output, its input, the input's offset entry, why; None: refused once, to be sent again on its own)
        self._refused: list[tuple[Output, Message, list[int] | None, str | None]] = []
        self._deadletter_value = getattr(handler, "deadletter_value", None)
        self.stores = list(getattr(handler, "stores", ()))
        self._completions = getattr(handler, "completions", None)
        self._wait_s = getattr(handler, "wait_s", None)
        self._backlogged = getattr(handler, "backlogged", None)
        self._prepare = getattr(handler, "prepare", None)
        self._paused = False
        # Transactional loops commit a batch in this thread while the next batch is read, decoded and prepared:
        # the commit is round trips to the broker, the next batch's work is CPU. (the commit, when it started)
        self._committer = ThreadPoolExecutor(1, thread_name_prefix="txn-commit") if config.transactional else None
        self._committing: tuple[Future[None], float] | None = None

    def stop(self, *_: object) -> None:
        self._stopping = True

    def run(self) -> None:
        if self.config.transactional:
            self._retrying("init_transactions", lambda: self.producer.init_transactions(30))
        self.consumer.subscribe(list(self.config.topics), on_assign=self._on_assign, on_revoke=self._on_revoke,
                                on_lost=self._on_revoke)
        try:
            while not self._stopping:
                self.health.beat()
                self._flow_control()
                batch = self._next_batch()
                if self.config.transactional:
                    self._process_in_transaction(batch)
                elif batch:
                    self._process(batch)
                self._complete()
                self.producer.poll(0)  # serve delivery callbacks
                self._redirect_refused()
                self._store_offsets()
                self._raise_if_failed()
                self._report_lag()
                if self.limit.flooding and self.limit.stop:
                    # Opted-in stop: only after this batch's dead letters are acknowledged and committed, so a
                    # restart goes on after them instead of dying on the same records again.
                    if self.config.transactional:
                        self._join_commit()
                    self._drain()
                    if not self.config.transactional:
                        self._commit()
                    self.limit.check()
        finally:
            self._shutdown()

    def _flow_control(self) -> None:
        """Pauses consumption while the handler's deferred work is backlogged; resumes when it is not."""
        if self._backlogged is None:
            return
        backlogged = self._backlogged()
        if backlogged != self._paused:
            (self.consumer.pause if backlogged else self.consumer.resume)(self.consumer.assignment())
            self._paused = backlogged
            log.log(logging.WARNING if backlogged else logging.INFO,
                    "consumption paused: deferred work backlogged" if backlogged else "consumption resumed")

    def _next_batch(self) -> list[Message]:
        cfg = self.config
        wait = cfg.poll_timeout_s if self._wait_s is None else max(0.0, min(cfg.poll_timeout_s, self._wait_s()))
        batch = self.consumer.consume(cfg.max_batch, timeout=0) or self.consumer.consume(1, wait)
        if batch and cfg.max_wait_ms and len(batch) < cfg.max_batch:
            batch += self.consumer.consume(cfg.max_batch - len(batch), timeout=cfg.max_wait_ms / 1000)
        return without_errors(batch, self.config.service)

    def _process(self, batch: list[Message]) -> None:
        started = time.perf_counter()
        for message, outputs, deferred in self._handle(batch):
            parts = deferred.parts if deferred is not None else 0
            entry = self.offsets.track((message.topic(), message.partition()), message.offset(),
                                       len(outputs) + parts)
            if deferred is not None:
                deferred.message, deferred.entry = message, entry
            for output in outputs:
                self._produce(output, entry, message)
        metrics.child(metrics.PROCESSING_LATENCY, self.config.service).observe(time.perf_counter() - started)

    def _complete(self) -> None:
        """Produces what the handler's deferred work finished: each completion's outputs count against its input's
        entry (which counted the completion itself until now), as do the state changes it made."""
        if self._completions is None:
            return
        done = self._completions()
        changes = [output for store in self.stores for output in store.changes()]
        if not done and not changes:
            return
        # The state changes ride with the last completion an input waits for (or alone, if none does).
        last = max((i for i, c in enumerate(done) if c.deferred is not None), default=None)
        if last is None:
            done, last = [*done, Completion(None)], len(done)
        for i, completion in enumerate(done):
            outputs = list(completion.outputs) + (changes if i == last else [])
            deferred = completion.deferred
            entry = deferred.entry if deferred is not None else None
            if entry is not None:
                entry[1] += len(outputs)
            for output in outputs:
                self._produce(output, entry, deferred.message if deferred is not None else None)
            if entry is not None:
                OffsetTracker.ack(entry)

    def _process_in_transaction(self, batch: list[Message]) -> None:
        """Decodes and prepares `batch` while the previous batch's transaction commits, then tops it up with what
        arrived meanwhile and handles it in a transaction of its own, whose commit runs in the background in turn
        (joined by the next call)."""
        incoming = self._prepared(batch) if batch else None
        if not self._join_commit():
            return  # the previous transaction aborted and the loop rewound: this batch is read again
        if incoming is None:
            return
        batch, incoming = self._topped_up(batch, incoming)
        assignment = self.consumer.assignment()
        batch, incoming = _assigned_only(batch, incoming, {(tp.topic, tp.partition) for tp in assignment})
        if not batch:
            return
        started = time.perf_counter()
        self.producer.begin_transaction()
        try:
            for message, outputs, _ in self._handle(batch, incoming):
                for output in outputs:
                    self._produce(output, None, message)
            positions = [tp for tp in self.consumer.position(assignment) if tp.offset >= 0]
            metadata = self.consumer.consumer_group_metadata()
        except KafkaException as exc:
            self._abort_unless_fatal(exc)
            return

        def commit() -> None:
            # Retriable errors (the coordinator moved or is loading, the broker is restarting) are retried; an
            # abortable one aborts the transaction and the batch runs again from the last committed one.
            self._retrying("send_offsets_to_transaction",
                           lambda: self.producer.send_offsets_to_transaction(positions, metadata, 30))
            self._retrying("commit_transaction", lambda: self.producer.commit_transaction(30))

        assert self._committer is not None
        self._committing = (self._committer.submit(commit), started)

    def _topped_up(self, batch: list[Message], incoming: Decodings) -> tuple[list[Message], Decodings]:
        """`batch` with what arrived while the previous transaction committed (up to max_batch), decoded and
        prepared."""
        room = self.config.max_batch - len(batch)
        more = without_errors(self.consumer.consume(room, timeout=0), self.config.service) if room > 0 else []
        if not more:
            return batch, incoming
        results, decoded, positions = self._prepared(more)
        return batch + more, (incoming[0] + results, incoming[1] + decoded,
                              incoming[2] + [len(batch) + i for i in positions])

    def _prepared(self, batch: list[Message]) -> Decodings:
        incoming = self._decode(batch)
        if self._prepare is not None:
            self._prepare(incoming[1])
        return incoming

    def _join_commit(self) -> bool:
        """Waits for the transaction committing in the background, if any. False when it aborted (the loop then
        rewound to the last committed transaction); a fatal error is raised."""
        if self._committing is None:
            return True
        future, started = self._committing
        self._committing = None
        try:
            future.result()
        except KafkaException as exc:
            self._abort_unless_fatal(exc)
            return False
        metrics.child(metrics.PROCESSING_LATENCY, self.config.service).observe(time.perf_counter() - started)
        return True

    def _abort_unless_fatal(self, exc: KafkaException) -> None:
        error = exc.args[0]
        if not isinstance(error, KafkaError) or error.fatal() or not error.txn_requires_abort():
            raise exc  # fatal (e.g. fenced by a newer instance): exit, the replacement takes over
        self._abort_and_rewind(error)

    def _abort_and_rewind(self, error: KafkaError) -> None:
        """Aborts the open transaction and puts the loop back where the last committed transaction left it: input
        positions from the group's committed offsets, handler state from its changelog (what a rebalance does)."""
        metrics.child(metrics.BROKER_ERRORS, self.config.service, "transaction_aborted").inc()
        log.warning("transaction aborted; re-running the batch from the last committed one",
                    extra={"error": str(error)})
        self._retrying("abort_transaction", lambda: self.producer.abort_transaction(30))

        def rewind() -> None:
            assigned = self.consumer.assignment()
            for tp in self.consumer.committed(assigned, timeout=30):
                self.consumer.seek(TopicPartition(tp.topic, tp.partition,
                                                  tp.offset if tp.offset >= 0 else OFFSET_BEGINNING))
            partitions = sorted({tp.partition for tp in assigned})
            self._revoke_state(partitions)
            self._assign_state(partitions)

        self._retrying("rewind", rewind)

    def _retrying(self, what: str, call: Callable[[], object], max_backoff_s: float = 5.0) -> None:
        """Runs `call` until it succeeds, backing off after retriable Kafka errors (and timeouts of restoring
        state); anything else is raised. The loop stays live (heartbeat) meanwhile; readiness follows the broker."""
        backoff = 0.1
        while True:
            try:
                call()
                return
            except (KafkaException, TimeoutError) as exc:
                error = exc.args[0] if isinstance(exc, KafkaException) and exc.args else None
                if isinstance(error, KafkaError) and (error.fatal() or error.txn_requires_abort()
                                                      or not transient(error)):
                    raise
                if self._stopping:
                    raise
                kind = error.name() if isinstance(error, KafkaError) else type(exc).__name__
                metrics.child(metrics.BROKER_ERRORS, self.config.service, kind).inc()
                log.warning("retrying after a retriable Kafka error", extra={"call": what, "error": str(exc),
                                                                            "backoff_s": backoff})
                self.health.beat()
                time.sleep(backoff)
                backoff = min(max_backoff_s, backoff * 2)

    def _decode(self, batch: list[Message]) -> Decodings:
        """Per input: a rejection where its value does not decode; the inputs that did, and their positions."""
        results: list[Result | None] = [None] * len(batch)
        decoded: list[Incoming] = []
        positions: list[int] = []
        for i, message in enumerate(batch):
            record = None
            if self.config.decode:
                try:
                    record = self.serde.decode(message.value() or b"", message.topic())
                except SerdeError as exc:
                    results[i] = Reject("decode_error", str(exc), "SerdeError")
                    continue
            decoded.append(Incoming(message, record))
            positions.append(i)
        return results, decoded, positions

    def _handle(self, batch: list[Message],
                incoming: Decodings | None = None) -> list[tuple[Message, list[Output], Deferred | None]]:
        service = self.config.service
        metrics.child(metrics.BATCH_SIZE, service).observe(len(batch))
        for topic in {m.topic() for m in batch}:
            metrics.child(metrics.MESSAGES_IN, service, topic).inc(sum(m.topic() == topic for m in batch))
        results, decoded, positions = incoming if incoming is not None else self._decode(batch)
        for i, result in zip(positions, self.handler.handle(decoded), strict=True):
            results[i] = result
        handled: list[tuple[Message, list[Output], Deferred | None]] = []
        for message, result in zip(batch, results, strict=True):
            self.limit.record(isinstance(result, Reject))
            if isinstance(result, Reject):
                handled.append((message, self._deadletter(message, result), None))
            elif isinstance(result, Deferred):
                if self.config.transactional:
                    raise TypeError("a transactional loop cannot wait for deferred work")
                handled.append((message, list(result.outputs), result))
            else:
                handled.append((message, list(result or []), None))
        # The batch's state changes ride with its last input: (transactional) in the batch's transaction, (else)
        # that input's offset waits for them too. Each names its own partition.
        for store in self.stores:
            handled[-1][1].extend(store.changes())
        return handled

    def _deadletter(self, message: Message, reject: Reject) -> list[Output]:
        log.warning("rejected record", extra={"reason": reject.reason, "detail": reject.detail,
                                               "topic": message.topic(), "partition": message.partition(),
                                               "offset": message.offset()})
        value = self._deadletter_value(message) if self._deadletter_value is not None else None
        return [deadletter(self.config, message, reject, value=value)]

    def _produce(self, output: Output, entry: list[int] | None, source: Message | None = None,
                 alone: bool = False) -> None:
        if output.schema:
            produced.stamp(output.value, self.config.service, output.topic)
            try:
                payload = self.serde.encode(output.schema, output.value, output.topic)
            except SerdeError as exc:
                if source is None:
                    raise
                self._dead_instead(source, entry, Reject("encode_error", str(exc)[:500], "SerdeError"))
                return
        else:
            payload = output.value
        deadletter = output.topic == self.config.deadletter_topic

        def delivered(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                metrics.PRODUCE_ERRORS.labels(self.config.service).inc()
                if entry is not None and source is not None and not deadletter and error.code() in RECORD_ERRORS:
                    # The broker refuses a whole producer batch for one record in it: send it again on its own
                    # first, dead-letter its input only if it is refused alone too. (Not in a transaction: there
                    # a failed record aborts the batch's transaction, which is retried.)
                    self._refused.append((output, source, entry, f"{output.topic}: {error.name()}" if alone else None))
                    return
                if entry is None and self.config.transactional:
                    return  # the transaction's commit fails with it, and the batch is aborted and re-run
                self._delivery_error = f"delivery to {output.topic} failed: {error}"
                return
            metrics.child(metrics.MESSAGES_OUT, self.config.service, output.topic).inc()
            if entry is not None:
                OffsetTracker.ack(entry)

        while True:
            try:
                extra = {} if output.partition is None else {"partition": output.partition}
                self.producer.produce(output.topic, payload, output.key.encode() if output.key is not None else None,
                                      headers=output.headers, **extra,
                                      on_delivery=delivered)
                return
            except BufferError:  # local queue full: let deliveries drain, then retry
                self.producer.poll(0.1)
            except KafkaException as exc:  # refused before sending, e.g. larger than message.max.bytes
                code = exc.args[0].code()
                if source is None or deadletter or code not in RECORD_ERRORS:
                    raise
                metrics.PRODUCE_ERRORS.labels(self.config.service).inc()
                self._dead_instead(source, entry, Reject("produce_error", f"{output.topic}: {exc.args[0].name()}",
                                                         "KafkaException"))
                return

    def _dead_instead(self, source: Message, entry: list[int] | None, reject: Reject) -> None:
        """Dead-letters `source` in place of one of its outputs (the dead letter's ack stands in for it)."""
        for output in self._deadletter(source, reject):
            self._produce(output, entry, None)

    def _redirect_refused(self) -> None:
        while self._refused:
            output, source, entry, detail = self._refused.pop(0)
            if detail is None:
                self._produce(output, entry, source, alone=True)
                self.producer.flush(30)  # a batch of its own (rare: only after a refusal)
            else:
                self._dead_instead(source, entry, Reject("produce_error", detail, "KafkaError"))

    def _store_offsets(self) -> None:
        advanced = self.offsets.committable()
        if advanced:
            self.consumer.store_offsets(offsets=[TopicPartition(t, p, o) for (t, p), o in advanced.items()])

    def _report_lag(self, every_s: float = 5.0) -> None:
        now = time.monotonic()
        if now - self._lag_reported < every_s:
            return
        self._lag_reported = now
        metrics.report_lag(self.consumer, self.config.service, self.config.group_id)

    def _raise_if_failed(self) -> None:
        if self._delivery_error:
            # Offsets of the failed input were never stored: a restart reads it again.
            raise RuntimeError(self._delivery_error)
        if self.health.fatal:
            raise RuntimeError(f"fatal Kafka client error: {self.health.fatal}")

    def _drain(self) -> None:
        while True:
            remaining = self.producer.flush(30)
            if remaining:
                raise RuntimeError(f"{remaining} records still unacknowledged after 30 s")
            if not self._refused:
                break
            self._redirect_refused()
        self._store_offsets()

    def _commit(self) -> None:
        try:
            self.consumer.commit(asynchronous=False)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError._NO_OFFSET:
                raise

    def _assign_state(self, partitions: list[int]) -> None:
        for store in self.stores:  # restored before a record of these partitions is handled
            store.assign(partitions)
        if hasattr(self.handler, "on_assign"):
            self.handler.on_assign(partitions)

    def _revoke_state(self, partitions: list[int]) -> None:
        if hasattr(self.handler, "on_revoke"):
            self.handler.on_revoke(partitions)
        self._complete()  # what finished while the handler let go of the partitions, with its state changes
        for store in self.stores:
            store.revoke(partitions)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._assign_state(sorted({p.partition for p in partitions}))
        self.health.ready = True
        metrics.READY.labels(self.config.service).set(1)
        log.info("partitions assigned", extra={"partitions": [f"{p.topic}[{p.partition}]" for p in partitions]})

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self.config.transactional:
            self._join_commit()  # the batch in flight commits (or aborts and rewinds) before the partitions go
        self._revoke_state(sorted({p.partition for p in partitions}))
        if self.config.transactional:  # every batch was committed in its transaction already
            return
        # Finish what is in flight so the next owner starts after it, then give the partitions up.
        try:
            self._drain()
            consumer.commit(asynchronous=False)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError._NO_OFFSET:
                log.warning("commit on revoke failed", extra={"error": str(exc)})
        self.offsets.forget([(p.topic, p.partition) for p in partitions])
        for p in partitions:  # the new owner reports their lag now
            with contextlib.suppress(KeyError):
                metrics.CONSUMER_LAG.remove(self.config.service, p.topic, str(p.partition), self.config.group_id)
        log.info("partitions revoked", extra={"partitions": [f"{p.topic}[{p.partition}]" for p in partitions]})

    def _shutdown(self) -> None:
        log.info("shutting down")
        try:
            if self._committer is not None:
                with contextlib.suppress(KafkaException):  # an abort is left to the broker's transaction timeout
                    self._join_commit()
                self._committer.shutdown()
            if hasattr(self.handler, "close"):
                self.handler.close()  # e.g. attempts running now finish; their outcomes are produced below
            self._complete()
            if self._delivery_error is None and not self.config.transactional:
                self._drain()
                try:
                    self.consumer.commit(asynchronous=False)
                except KafkaException as exc:
                    if exc.args[0].code() != KafkaError._NO_OFFSET:
                        raise
        finally:
            self.consumer.close()
            self.health.ready = False
            metrics.READY.labels(self.config.service).set(0)
