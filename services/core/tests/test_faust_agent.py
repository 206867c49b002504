"""core's AgentRuntime, record by record, on a real faust app whose topics are replaced by recorders (the broker
part is covered by tests/integration/test_routing.py and test_churn.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import faust
import pytest
from faust.types import Message

from cxpulse_core import metrics
from cxpulse_core.dlq import Reject
from cxpulse_core.faust_agent import AgentRuntime
from cxpulse_core.faust_codec import Undecodable
from cxpulse_core.serde import Decoded
from cxpulse_core.settings import RuntimeSettings


class Recorder:
    """Stands in for a faust topic: keeps what was sent; send() returns the 'acknowledgement' future."""

    def __init__(self, name: str) -> None:
        self.name, self.sent = name, []

    def get_topic_name(self) -> str:
        return self.name

    async def send(self, **kwargs: Any) -> asyncio.Future:
        self.sent.append(kwargs)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def message(value: bytes = b"v", offset: int = 0) -> Message:
    return Message("in", 2, offset, 0.0, 0, [("h", b"1"), ("cxpulse.error.reason", b"planted")], b"k", value, None)


def make_runtime(stop: bool) -> AgentRuntime:
    settings = RuntimeSettings(dlq_min_messages=4, dlq_window=4, dlq_max_invalid_ratio=0.5, dlq_stop_on_flood=stop)
    rt = AgentRuntime(faust.App("test-agent-runtime", broker="kafka://127.0.0.1:1"), "svc-test", "dlq", settings)
    rt.deadletter = Recorder("dlq")  # type: ignore[assignment]
    return rt


@pytest.fixture
def runtime() -> AgentRuntime:
    return make_runtime(stop=False)


async def _ok(key: str | None, value: Any, message: Message) -> Reject | None:
    return None


async def _fails(key: str | None, value: Any, message: Message) -> Reject | None:
    raise KeyError("turn")


def _reasons(rt: AgentRuntime) -> list[bytes]:
    return [dict(s["headers"])["cxpulse.error.reason"] for s in rt.deadletter.sent]  # type: ignore[attr-defined]


def test_bad_records_go_to_the_deadletter_topic_with_their_reason_and_the_original_bytes(runtime):
    async def run() -> None:
        assert await runtime._one(_ok, message(b"junk"), Undecodable(b"junk", "bad magic"), False)
        assert await runtime._one(_ok, message(b""), None, False)
        assert await runtime._one(_ok, message(b""), None, True)  # a tombstone where they mean something
        assert await runtime._one(_fails, message(b"x"), Decoded("s", {}), False)

    asyncio.run(run())
    assert _reasons(runtime) == [b"decode_error", b"null_value", b"processing_error"]
    first = runtime.deadletter.sent[0]  # type: ignore[attr-defined]
    assert first["key"] == b"k" and first["value"] == b"junk"
    assert dict(first["headers"])["cxpulse.error.service"] == b"svc-test"
    assert ("h", b"1") in first["headers"] and ("cxpulse.error.reason", b"planted") not in first["headers"]
    assert runtime.limit.flooding and not runtime.health.fatal  # reported, and the service goes on
    assert metrics.DEADLETTERS.labels("svc-test", "decode_error")._value.get() >= 1
    assert metrics.MESSAGES_IN.labels("svc-test", "in")._value.get() >= 4


def test_a_flood_with_stop_on_flood_marks_the_service_fatal_after_the_deadletter_is_out():
    runtime = make_runtime(stop=True)
    crashed: list[BaseException] = []

    async def crash(exc: BaseException) -> None:
        crashed.append(exc)

    runtime.app.crash = crash  # type: ignore[method-assign]

    async def run() -> list[bool]:
        results = [await runtime._one(_ok, message(offset=i), Decoded("s", {}), False) for i in range(2)]
        results += [await runtime._one(_fails, message(offset=2 + i), Decoded("s", {}), False) for i in range(3)]
        await asyncio.sleep(0)  # the crash task runs
        return results

    assert asyncio.run(run()) == [True, True, True, True, False]  # 2 of 4 is the limit; 3 of the last 4 above it
    assert runtime.health.fatal and "rejected" in runtime.health.fatal and crashed
    assert len(runtime.deadletter.sent) == 3  # type: ignore[attr-defined]  # the last one too, before the stop


def test_send_stamps_produced_time_and_waits_for_the_acknowledgement(runtime):
    out = Recorder("out")
    record = {"contact_id": "c", "origin_time": 1, "produced_time": 0}
    asyncio.run(runtime.send(out, "c", "io.cxpulse.X", record))  # type: ignore[arg-type]
    assert record["produced_time"] > 1
    assert out.sent == [{"key": "c", "value": Decoded("io.cxpulse.X", record)}]
    assert metrics.MESSAGES_OUT.labels("svc-test", "out")._value.get() >= 1
