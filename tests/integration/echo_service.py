"""A minimal service on the shared stream loop, for integration tests: copies each decoded record (ChurnRisk,
keyed by account) from the input topic to the output topic. With CRASH_ON_EVENT set, the process dies (no
flush, no commit) when it meets that event id, before producing it, as a kill -9 would. Records whose event id
is in `oversize` are echoed as that many raw bytes instead (a record the broker must refuse)."""

from __future__ import annotations

import os
import signal
import sys

from cxpulse_core.dlq import InvalidRatioLimit
from cxpulse_core.health import Health
from cxpulse_core.kafka import make_consumer, make_producer
from cxpulse_core.loop import Incoming, LoopConfig, Output, StreamLoop
from cxpulse_core.serde import Serde, SingleObjectSerde
from cxpulse_core.settings import KafkaSettings


class Echo:
    def __init__(self, output_topic: str, crash_on: str | None = None, oversize: dict[str, int] | None = None) -> None:
        self.output_topic = output_topic
        self.crash_on = crash_on
        self.oversize = oversize or {}
        self.handled: list[list[Incoming]] = []  # every batch handle() got, in order


    def handle(self, batch: list[Incoming]) -> list[list[Output]]:
        self.handled.append(batch)
        results = []
        for incoming in batch:
            value = incoming.record.value
            if value.get("event_id") == self.crash_on:
                os._exit(9)
            size = self.oversize.get(value.get("event_id"))
            if size:
                results.append([Output(self.output_topic, value["account_id"], "", os.urandom(size))])  # incompressible
                continue
            results.append([Output(self.output_topic, value["account_id"], incoming.record.schema, value)])
        return results


class PreparedEcho(Echo):
    """An Echo with prepare(): records each batch it prepared, which the transactional loop runs while the
    previous batch commits."""

    def __init__(self, output_topic: str) -> None:
        super().__init__(output_topic)
        self.prepared: list[list[Incoming]] = []

    def prepare(self, batch: list[Incoming]) -> None:
        self.prepared.append(batch)


def build(kafka: KafkaSettings, source: str, sink: str, dlq: str, group: str, crash_on: str | None = None,
          max_ratio: float = 0.9, serde: Serde | None = None, stop_on_flood: bool = False,
          oversize: dict[str, int] | None = None, handler: Echo | None = None,
          transactional: bool = False) -> StreamLoop:
    """`transactional`: exactly-once, with transactional.id = group; `handler` replaces the plain Echo."""
    config = LoopConfig(service="echo", group_id=group, topics=[source], deadletter_topic=dlq, max_wait_ms=5,
                        max_batch=50 if transactional else 500, transactional=transactional)
    consumer_extra = {"enable.auto.commit": False} if transactional else {"auto.commit.interval.ms": 200}
    consumer = make_consumer(kafka, group, **consumer_extra, **{"session.timeout.ms": 6000})
    producer = make_producer(kafka, **({"transactional.id": group} if transactional else {}))
    return StreamLoop(config, consumer, producer, serde or SingleObjectSerde(),
                      handler or Echo(sink, crash_on, oversize), Health(60),
                      InvalidRatioLimit(max_ratio, 100, 10, "echo", stop_on_flood))


if __name__ == "__main__":
    bootstrap, source, sink, dlq, group = sys.argv[1:6]
    loop = build(KafkaSettings(bootstrap_servers=bootstrap), source, sink, dlq, group, os.environ.get("CRASH_ON_EVENT"))
    signal.signal(signal.SIGTERM, loop.stop)
    loop.run()
