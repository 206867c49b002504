"""The runtime every faust agent of cxpulse goes through: what core's StreamLoop gives the confluent-kafka services,
for faust's `@app.agent` functions.

    runtime = AgentRuntime(app, "routing", deadletter_topic, runtime_settings)

    @app.agent(contacts_in, name="decide")
    @runtime.each_record()
    async def decide(key: str | None, value: Decoded, message: Message) -> Reject | None: ...

Per record: an undecodable value (or a null one where tombstones mean nothing) goes to the dead-letter topic with
the reason, and so does one the handler rejects or fails on (`processing_error`: one bad record must not stall a
partition); the dead-letter ratio limit watches them all (stopping the worker only with CXPULSE_DLQ_STOP_ON_FLOOD);
cxpulse_messages_in_total, cxpulse_deadletters_total and cxpulse_processing_latency_seconds count them.
`send` produces an output, stamps its produced_time (cxpulse_pipeline_latency_seconds) and waits for the broker's
acknowledgement. Timers keep /healthz (a beat every second), /readyz (partitions assigned, tables recovered),
cxpulse_ready and cxpulse_consumer_lag current, and commit past sentiment's transaction markers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.types import Message

from . import metrics, produced
from .dlq import DeadLetterLimitError, InvalidRatioLimit, Reject, deadletter_headers
from .faust_codec import Undecodable
from .faust_fetch import commit_past_markers
from .faust_ops import LagReporter, recovered
from .health import Health
from .serde import Decoded, SerdeError
from .settings import RuntimeSettings

log = logging.getLogger(__name__)

# handle(key, value, message) -> a rejection (the record goes to the dead-letter topic) or None (done)
RecordHandler = Callable[[str | None, Any, Message], Awaitable[Reject | None]]
AgentFun = Callable[[faust.StreamT], Awaitable[None]]


class AgentRuntime:
    def __init__(self, app: faust.App, service: str, deadletter_topic: str, settings: RuntimeSettings) -> None:
        self.app, self.service = app, service
        self.health = Health(settings.liveness_timeout_s)
        self.limit = InvalidRatioLimit(settings.dlq_max_invalid_ratio, settings.dlq_window,
                                       settings.dlq_min_messages, service, settings.dlq_stop_on_flood)
        self.deadletter_topic = deadletter_topic
        self.deadletter = app.topic(deadletter_topic, key_serializer="raw", value_serializer="raw")
        self.on_beat: list[Callable[[], None]] = []  # more gauges to set every second (e.g. table sizes)
        self._lag = LagReporter(app, service)
        app.timer(1.0, name="ops-heartbeat")(self._beat)
        app.timer(5.0, name="consumer-lag")(self._report_lag)

    def each_record(self, *, tombstones: bool = False) -> Callable[[RecordHandler], AgentFun]:
        """Makes a faust agent function (what `@app.agent` takes) of a per-record handler. `tombstones`: a null
        value is handed over (a compacted topic's delete) instead of being dead-lettered."""

        def wrap(handle: RecordHandler) -> AgentFun:
            async def agent(stream: faust.StreamT) -> None:
                async for event in stream.events():
                    if not await self._one(handle, event.message, event.value, tombstones):
                        return  # the worker is stopping on a dead-letter flood

            agent.__name__ = agent.__qualname__ = handle.__name__
            agent.__doc__ = handle.__doc__
            return agent

        return wrap

    async def _one(self, handle: RecordHandler, message: Message, value: Any, tombstones: bool) -> bool:
        started = time.perf_counter()
        metrics.child(metrics.MESSAGES_IN, self.service, message.topic).inc()
        reject: Reject | None
        if value is None and not tombstones:
            reject = Reject("null_value", "a record without a value")
        elif isinstance(value, Undecodable):
            reject = Reject("decode_error", value.error, "SerdeError")
        else:
            try:
                reject = await handle(_key(message.key), value, message)
            except SerdeError as exc:  # Decoded.typed: a value that does not fit its typed record
                reject = Reject("decode_error", str(exc), "SerdeError")
            except Exception as exc:  # one bad record must not stall the partition
                log.exception("failed to handle a record", extra={"topic": message.topic,
                                                                  "partition": message.partition,
                                                                  "offset": message.offset})
                reject = Reject("processing_error", f"{type(exc).__name__}: {exc}", type(exc).__name__)
        if reject is not None:
            await self.dead(reject, message)
        self.limit.record(reject is not None)
        try:  # raises only with CXPULSE_DLQ_STOP_ON_FLOOD, after the dead letter above was acknowledged
            self.limit.check()
        except DeadLetterLimitError as exc:
            log.critical("stopping: %s", exc)
            self.health.fatal = str(exc)
            asyncio.get_running_loop().create_task(self.app.crash(exc))
            return False
        metrics.child(metrics.PROCESSING_LATENCY, self.service).observe(time.perf_counter() - started)
        return True

    async def dead(self, reject: Reject, message: Message) -> None:
        """Sends `message` (its original bytes and key) to the dead-letter topic with the reason in headers, and
        waits for the acknowledgement."""
        metrics.child(metrics.DEADLETTERS, self.service, reject.reason).inc()
        log.warning("rejected record", extra={"reason": reject.reason, "detail": reject.detail,
                                               "topic": message.topic, "partition": message.partition,
                                               "offset": message.offset})
        headers = deadletter_headers(reject, self.service, message.topic, message.partition, message.offset,
                                     list(message.headers or []))
        await (await self.deadletter.send(key=message.key, value=message.value, headers=headers))

    async def send(self, topic: faust.TopicT, key: str, schema: str, record: dict[str, Any]) -> None:
        """Produces `record` (stamping its produced_time) and waits for the broker's acknowledgement: callers
        record their progress only after it."""
        produced.stamp(record, self.service, topic.get_topic_name())
        await (await topic.send(key=key, value=Decoded(schema, record)))
        metrics.child(metrics.MESSAGES_OUT, self.service, topic.get_topic_name()).inc()

    async def _beat(self) -> None:
        """Liveness: the event loop runs timers. Readiness: partitions assigned, no rebalance, every table
        recovered from its changelog (and the broker answering: the BrokerWatch)."""
        self.health.beat()
        ready = recovered(self.app)  # not before: decisions on half-restored tables would be wrong
        if ready and not self.health.ready:
            log.info("ready: tables recovered, agents running")
        self.health.ready = ready
        metrics.child(metrics.READY, self.service).set(1 if self.health.ready else 0)
        for gauge in self.on_beat:
            gauge()

    async def _report_lag(self) -> None:
        await commit_past_markers(self.app)  # sentiment's transaction markers: the committed offset reaches the end
        self._lag.report()


def _key(key: bytes | str | None) -> str | None:
    return key.decode("utf-8", "replace") if isinstance(key, bytes) else key
