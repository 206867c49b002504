"""Run a stream service in-process for a test: its own topic namespace, its loop in a thread."""

from __future__ import annotations

import threading

from ..dlq import InvalidRatioLimit
from ..health import Health
from ..kafka import make_consumer, make_producer
from ..loop import Handler, LoopConfig, StreamLoop
from ..runner import Stoppable
from ..serde import Serde, SingleObjectSerde
from ..settings import KafkaSettings


class RunningLoop:
    """A service loop (a StreamLoop, or any object with run() and stop()) running in a thread until stop(); an
    exception it raised is kept in `.error` and raised again by stop()."""

    def __init__(self, loop: Stoppable) -> None:
        self.loop = loop
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.loop.run()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def stop(self) -> None:
        self.loop.stop()
        self.thread.join(30)
        if self.error:
            raise self.error

    def __enter__(self) -> RunningLoop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_loop(kafka: KafkaSettings, config: LoopConfig, handler: Handler, serde: Serde | None = None,
               max_invalid_ratio: float = 0.9) -> RunningLoop:
    consumer_extra = {"enable.auto.commit": False} if config.transactional else {}
    producer_extra = {"transactional.id": f"{config.group_id}-test"} if config.transactional else {}
    loop = StreamLoop(config, make_consumer(kafka, config.group_id, **consumer_extra),
                      make_producer(kafka, **producer_extra), serde or SingleObjectSerde(), handler, Health(60),
                      InvalidRatioLimit(max_invalid_ratio, 1000, 50))
    return RunningLoop(loop)
