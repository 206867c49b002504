"""produce_events against a fake producer, pacing, and the CLI's dry run."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from cxpulse_core.settings import KafkaSettings, RuntimeSettings
from cxpulse_lab.sim import generate, produce_events, summarize
from cxpulse_lab.sim.simulate import main


class FakeProducer:
    def __init__(self, unacknowledged: int = 0, fail_every: int = 0) -> None:
        self.records: list[tuple[str, bytes, bytes]] = []
        self.polls = 0
        self.unacknowledged = unacknowledged
        self.fail_every = fail_every
        self.callbacks: list[Any] = []

    def produce(self, topic: str, value: bytes, key: bytes, on_delivery: Any) -> None:
        self.records.append((topic, key, value))
        self.callbacks.append(on_delivery)

    def poll(self, _timeout: float) -> int:
        self.polls += 1
        return 0

    def flush(self, _timeout: float) -> int:
        for n, callback in enumerate(self.callbacks, 1):
            callback("broker said no" if self.fail_every and n % self.fail_every == 0 else None, None)
        return self.unacknowledged


def test_produces_every_event_keyed_by_contact_to_prefixed_topics() -> None:
    events = generate(3, 10, 30)
    producer = FakeProducer()
    runtime = RuntimeSettings(topic_prefix="t1.")
    result = produce_events(events, KafkaSettings(), runtime, realtime=False, producer=producer)
    assert len(producer.records) == len(events) == result["produced"]
    assert producer.polls >= len(events)
    assert {topic for topic, _, _ in producer.records} == {"t1.cx.raw.contact-events", "t1.cx.raw.contact-lens"}
    assert [key.decode() for _, key, _ in producer.records] == [e.contact_id for e in events]
    assert result["failed"] == result["unacknowledged"] == 0
    assert result["utterances"] == summarize(events)["utterances"]
    assert sum(result["events_by_format"].values()) == len(events)


def test_reports_failed_and_unacknowledged_deliveries() -> None:
    events = generate(3, 10, 30, script="e2e")
    result = produce_events(events, KafkaSettings(), RuntimeSettings(), realtime=False,
                            producer=FakeProducer(unacknowledged=2, fail_every=10))
    assert result["failed"] == len(events) // 10 and result["unacknowledged"] == 2


def test_paced_in_real_time_compressed_by_speed() -> None:
    events = generate(3, rate=20, duration_s=6, script="none")
    started = time.monotonic()
    produce_events(events, KafkaSettings(), RuntimeSettings(), speed=10.0, producer=FakeProducer())
    elapsed = time.monotonic() - started
    assert events[-1].at_s / 10 - 0.05 <= elapsed <= events[-1].at_s / 10 + 0.5


def test_event_time_follows_speed() -> None:
    events = generate(3, 10, 30, script="e2e")
    producer = FakeProducer()
    produce_events(events, KafkaSettings(), RuntimeSettings(), speed=4.0, realtime=False, producer=producer,
                   base_ms=1_767_225_600_000)
    last = json.loads(producer.records[-1][2])
    assert last["timestamp"].startswith("2026-01-01T00:00:0")  # 30 s of sim time / 4 < 10 s


def test_dry_run_prints_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dry-run", "--duration", "20", "--rate", "5", "--seed", "2"]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == len(generate(2, 5, 20))
    assert {"at_s", "topic", "key", "value"} == set(lines[0])
    assert "contacts" in err and "utterances" in err and "contact-lens" in err


def test_cli_rejects_bad_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dry-run", "--rate", "-1"]) == 2
    assert main(["--dry-run", "--speed", "0"]) == 2
