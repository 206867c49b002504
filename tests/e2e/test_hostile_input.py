"""Hostile input through the real pipeline (issue 13): > 10,000 hostile records of 30 kinds, each carrying a planted
`cxpulse.error.reason` header, interleaved on both raw topics with valid conversations. Every service must stay
alive, every hostile record must land in cx.deadletter.ingest with exactly one, genuine, reason, and every valid
utterance must be scored by sentiment."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer

from cxpulse_core import topics
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.testing.kafka import consume
from cxpulse_lab.sim.pipeline import Pipeline, isolated_env

pytestmark = pytest.mark.kafka
RAW_SCHEMA = "io.cxpulse.raw.RawContactEvent"
PLANTED = [("cxpulse.error.reason", b"planted_reason"), ("cxpulse.error.source.offset", b"0")]
HOSTILE_COUNT = 10_500
CONTACTS = 40
AVRO_FIELDS = ("event_id", "type", "contact_id", "timestamp", "sequence", "account_id", "customer_id", "agent_id",
               "queue", "channel", "journey_stage", "language", "speaker", "text", "begin_offset_ms", "end_offset_ms",
               "status", "disposition", "reason")
SERDE = SingleObjectSerde()


def avro(doc: dict) -> bytes:
    return SERDE.encode(RAW_SCHEMA, {name: doc.get(name) for name in AVRO_FIELDS})


def base(i: int, **fields) -> dict:
    return {"event_id": f"h-{i}", "type": "utterance", "contact_id": f"hostile-{i}",
            "timestamp": "2026-11-26T10:00:00Z", "speaker": "customer", "text": "hello"} | fields


def lens(i: int, **transcript) -> bytes:
    segment = {"Id": f"t{i}", "ParticipantRole": "CUSTOMER", "Content": "hi"} | transcript
    return json.dumps({"Version": "2.0.0", "ContactId": f"hostile-cl-{i}", "StreamingEventType": "SEGMENTS",
                       "Channel": "CHAT", "Segments": [{"Transcript": segment}]}).encode()


def js(doc: object) -> bytes:
    return json.dumps(doc).encode()


# (topic role, make value) for each kind; every one of them must be rejected.
HOSTILE = [
    ("raw", lambda i: b"x"),  # one byte
    ("raw", lambda i: b""),  # empty
    ("raw", lambda i: None),  # a tombstone on a non-compacted topic
    ("raw", lambda i: b"\xff\xfe\x00 not utf-8"),
    ("raw", lambda i: b'{"event_id": "h-' + str(i).encode()),  # truncated JSON
    ("raw", lambda i: js([base(i)])),  # array, not object
    ("raw", lambda i: b"[" * 3000 + b"]" * 3000),  # deeply nested
    ("raw", lambda i: js(base(i, timestamp="²"))),  # isdigit() but not int()-able
    ("raw", lambda i: js(base(i, timestamp="7" * 5000))),  # above Python's int-string limit
    ("raw", lambda i: js(base(i, timestamp="1764150000"))),  # epoch seconds
    ("raw", lambda i: js(base(i)).replace(b'"hello"', b"NaN")),
    ("raw", lambda i: js(base(i, sequence=2**64 - 1))),  # beyond Avro's long
    ("raw", lambda i: js(base(i)).replace(b'"speaker"', b'"sequence": ' + b"9" * 5000 + b', "speaker"')),
    ("raw", lambda i: js(base(i, text=7))),
    ("raw", lambda i: js({k: v for k, v in base(i).items() if k != "contact_id"})),
    ("raw", lambda i: js(base(i, type="hold_music"))),
    ("raw", lambda i: js(base(i, event_id="   "))),
    ("raw", lambda i: js(base(i, contact_id="c" * 300))),
    ("raw", lambda i: js(base(i, language="english please"))),
    ("raw", lambda i: js(base(i, speaker="narrator"))),
    ("raw", lambda i: js(base(i, text="x" * 70_000))),  # oversized JSON
    ("raw", lambda i: avro(base(i, text="x" * 70_000))),  # oversized Avro: the same limit, before decoding
    ("raw", lambda i: avro(base(i, timestamp="²"))),
    ("raw", lambda i: avro(base(i, sequence=-5))),
    ("raw", lambda i: avro(base(i))[:10] + b"\xff" * 20),  # right marker and fingerprint, garbage body
    ("raw", lambda i: b"\xc3\x01" + b"\x00" * 8 + b"body"),  # unknown writer fingerprint
    ("raw", lambda i: b"\x00\x00\x00\x00\x07" + b"junk"),  # Confluent framing, no registry
    ("lens", lambda i: lens(i, Time={"AbsoluteTime": "²"})),
    ("lens", lambda i: lens(i, Time={"AbsoluteTime": "1" * 5000})),
    ("lens", lambda i: js({"ContactId": f"hostile-cl-{i}", "EventType": "SEGMENTS", "Channel": "VOICE",
                           "Segments": "all of them"})),
]


def conversation(n: int) -> list[dict]:
    contact = f"valid-{n}"
    events = [{"event_id": f"{contact}-0", "type": "contact_started", "contact_id": contact, "sequence": 0,
               "timestamp": "2026-11-26T10:00:00Z", "account_id": f"acct-{n}", "agent_id": "ag-1", "channel": "voice"}]
    lines = ["Hi, I was charged twice this month.", "That is really frustrating, I want a refund now.",
             "Okay, thank you for sorting that out.", "Great, that is all, goodbye."]
    for turn, text in enumerate(lines, 1):
        events.append({"event_id": f"{contact}-{turn}", "type": "utterance", "contact_id": contact, "sequence": turn,
                       "timestamp": f"2026-11-26T10:00:{turn:02d}Z", "speaker": "customer", "text": text})
    events.append({"event_id": f"{contact}-9", "type": "contact_ended", "contact_id": contact, "sequence": 9,
                   "timestamp": "2026-11-26T10:01:00Z", "status": "completed"})
    return events


def records(runtime) -> Iterator[tuple[str, str, bytes | None, list[tuple[str, bytes]]]]:
    """(topic, key, value, headers), hostile and valid interleaved; valid ones in order per contact."""
    valid = [e for n in range(CONTACTS) for e in conversation(n)]
    valid.sort(key=lambda e: (e["sequence"], e["contact_id"]))  # every contact's events in order, contacts mixed
    every = HOSTILE_COUNT // len(valid)
    topic = {"raw": runtime.topic(topics.RAW_EVENTS), "lens": runtime.topic(topics.RAW_CONTACT_LENS)}
    for i in range(HOSTILE_COUNT):
        role, make = HOSTILE[i % len(HOSTILE)]
        yield topic[role], f"h-{i}", make(i), PLANTED
        if i % every == 0 and valid:
            event = valid.pop(0)
            value = avro(event) if event["sequence"] == 2 else js(event)  # both wire forms among the valid
            yield topic["raw"], event["contact_id"], value, []


@pytest.fixture
def pipeline(kafka_settings, cx_runtime, tmp_path):
    env = isolated_env(cx_runtime.topic_prefix, tmp_path) | {"CXPULSE_LOG_LEVEL": "WARNING"}
    running = Pipeline(kafka_settings.bootstrap_servers, tmp_path / "logs", cx_runtime.topic_prefix, base_port=0,
                       env=env, services=("ingest", "sentiment", "churn", "routing"))
    try:
        running.start()
        running.wait_ready(180)
        yield running
    finally:
        codes = running.stop()
    assert all(code == 0 for code in codes.values()), codes  # alive to the end, stopped cleanly on SIGTERM


def test_hostile_records_are_dead_lettered_and_valid_traffic_flows(pipeline, kafka_settings, cx_runtime):
    producer = Producer(kafka_settings.client_config() | {"linger.ms": 5, "message.max.bytes": 2_000_000})
    hostile_keys = set()
    for topic, key, value, headers in records(cx_runtime):
        if key.startswith("h-"):
            hostile_keys.add(key.encode())
        while True:
            try:
                producer.produce(topic, value, key.encode(), headers=headers)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    assert producer.flush(60) == 0
    assert len(hostile_keys) >= 10_000

    utterances = CONTACTS * 4
    deadline = time.monotonic() + 240
    scored: list = []
    while time.monotonic() < deadline and len(scored) < utterances:
        pipeline.check_alive()
        scored = consume(kafka_settings, cx_runtime.topic(topics.UTTERANCE_SENTIMENT), utterances, timeout_s=10)
    dead = consume(kafka_settings, cx_runtime.topic(topics.deadletter("ingest")), len(hostile_keys), timeout_s=120,
                   settle_s=2)
    pipeline.check_alive()

    values = [SERDE.decode(m.value()).value for m in scored]
    assert sorted(v["utterance_id"] for v in values) == sorted(f"valid-{n}-{t}" for n in range(CONTACTS)
                                                               for t in range(1, 5))  # 100% of valid scored
    assert {m.key() for m in dead} == hostile_keys and len(dead) == len(hostile_keys)  # 100% dead-lettered, once
    for message in dead:
        reasons = [v for k, v in message.headers() if k == "cxpulse.error.reason"]
        offsets = [v for k, v in message.headers() if k == "cxpulse.error.source.offset"]
        assert len(reasons) == 1 and reasons[0] != b"planted_reason", message.key()
        assert len(offsets) == 1
    for stream in ("sentiment", "churn-scoring", "routing"):  # nothing hostile leaked downstream
        assert not consume(kafka_settings, cx_runtime.topic(topics.deadletter(stream)), 1, timeout_s=2)
