"""Property: every input on either raw topic (arbitrary bytes, arbitrary JSON, arbitrary Avro) becomes outputs that
encode with the real interaction schemas, a duplicate, or a rejection with a reason; the handler never raises and
never needs its last-resort `internal_error` net. Plus the records that crash-looped ingest before (issue 13)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxpulse_core.dlq import Reject
from cxpulse_core.loop import Incoming, Output
from cxpulse_core.schemas import schema_dir
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_ingest.handler import IngestHandler
from cxpulse_ingest.ingestor import Ingestor, IngestRules

RAW, LENS = "cx.raw.contact-events", "cx.raw.contact-lens"
SERDE = SingleObjectSerde()
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Message:
    """The parts of a confluent_kafka.Message the handler reads (a real one cannot be built outside a consumer)."""

    def __init__(self, topic: str, value: bytes | None, offset: int = 0) -> None:
        self._topic, self._value, self._offset = topic, value, offset

    def topic(self) -> str:
        return self._topic

    def value(self) -> bytes | None:
        return self._value

    def key(self) -> bytes | None:
        return None

    def headers(self) -> list[tuple[str, bytes]] | None:
        return None

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_764_150_000_000)


def handler(max_bytes: int = 64 * 1024) -> IngestHandler:
    return IngestHandler(Ingestor(IngestRules(max_bytes=max_bytes)), {RAW: "cxpulse", LENS: "contact-lens"},
                         "cx.interactions", SERDE)


def outcome(h: IngestHandler, topic: str, value: bytes | None) -> list[Output] | Reject:
    (result,) = h.handle([Incoming(Message(topic, value), None)])
    if isinstance(result, Reject):
        assert result.reason and result.reason != "internal_error", result
        return result
    for output in result:  # what the loop will produce must encode with the shipped schemas
        SERDE.encode(output.schema, output.value, output.topic)
    return list(result)


FIELDS = ["event_id", "type", "contact_id", "timestamp", "sequence", "account_id", "customer_id", "agent_id",
          "queue", "channel", "journey_stage", "language", "speaker", "text", "begin_offset_ms", "end_offset_ms",
          "status", "disposition", "reason"]
HOSTILE_STRINGS = st.sampled_from(["", " ", "²", "٣٤٥", "1" * 5000, "9" * 20, "-1", "1e309", "NaN", "\x00",
                                   "2026-11-26T10:00:00", "2026-11-26T10:00:00Z", "0001-01-01T00:00:00+14:00",
                                   "9999-12-31T23:59:59-14:00", "1764150000000", "utterance", "contact_started",
                                   "contact_ended", "customer", "en-US", "voice", "4111 1111 1111 1111"])
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**64), max_value=2**64)
           | st.floats(allow_nan=False) | st.text(max_size=50) | HOSTILE_STRINGS)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
CONTRACT_ISH = st.fixed_dictionaries({}, optional={name: SCALARS | JSON for name in FIELDS})
VALID_BASE = {"event_id": "e-1", "type": "utterance", "contact_id": "c-1", "timestamp": "2026-11-26T10:00:00Z",
              "speaker": "customer", "text": "hello"}
NEAR_VALID = st.builds(lambda base, changes: base | changes, st.just(VALID_BASE),
                       st.dictionaries(st.sampled_from(FIELDS), SCALARS, max_size=3))
LENS_ISH = st.fixed_dictionaries({}, optional={
    "ContactId": SCALARS, "EventType": st.sampled_from(["STARTED", "SEGMENTS", "COMPLETED", "FAILED"]) | SCALARS,
    "Channel": st.sampled_from(["VOICE", "CHAT"]) | SCALARS, "LanguageCode": SCALARS,
    "Segments": st.lists(st.dictionaries(st.sampled_from(["Transcript", "Utterance", "Categories", "Issues"]),
                                         st.fixed_dictionaries({}, optional={
                                             "Id": SCALARS, "ParticipantRole": st.sampled_from(["CUSTOMER", "AGENT"]),
                                             "Content": SCALARS, "BeginOffsetMillis": SCALARS,
                                             "EndOffsetMillis": SCALARS, "MatchedCategories": JSON,
                                             "Time": st.fixed_dictionaries({}, optional={"AbsoluteTime": SCALARS})}),
                                         max_size=1), max_size=3) | SCALARS})


def to_json(doc: Any) -> bytes:
    return json.dumps(doc).encode()


@PROPERTY
@given(st.binary(max_size=300), st.sampled_from([RAW, LENS]))
def test_arbitrary_bytes_on_either_topic(value: bytes, topic: str) -> None:
    outcome(handler(), topic, value)


@PROPERTY
@given(st.one_of(JSON, CONTRACT_ISH, NEAR_VALID), st.sampled_from([RAW, LENS]))
def test_arbitrary_json_on_either_topic(doc: Any, topic: str) -> None:
    outcome(handler(), topic, to_json(doc))


@PROPERTY
@given(LENS_ISH)
def test_arbitrary_contact_lens_events(doc: dict[str, Any]) -> None:
    outcome(handler(), LENS, to_json(doc))


AVRO_FIELDS = {
    "event_id": st.text(max_size=20) | HOSTILE_STRINGS, "type": st.text(max_size=20) | HOSTILE_STRINGS,
    "contact_id": st.text(max_size=20) | HOSTILE_STRINGS, "timestamp": st.text(max_size=30) | HOSTILE_STRINGS,
}
AVRO_OPTIONAL = {name: st.none() | st.text(max_size=30) | HOSTILE_STRINGS
                 for name in FIELDS if name not in AVRO_FIELDS and name not in ("sequence", "begin_offset_ms",
                                                                                "end_offset_ms")}
AVRO_LONGS = {name: st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1)
              for name in ("sequence", "begin_offset_ms", "end_offset_ms")}


@PROPERTY
@given(st.fixed_dictionaries(AVRO_FIELDS | AVRO_OPTIONAL | AVRO_LONGS), st.binary(max_size=20))
def test_arbitrary_avro_records_and_truncations(record: dict[str, Any], tail: bytes) -> None:
    encoded = SERDE.encode("io.cxpulse.raw.RawContactEvent", record)
    h = handler()
    outcome(h, RAW, encoded)
    outcome(h, RAW, encoded[: len(encoded) // 2])  # cut short
    outcome(h, RAW, encoded[:10] + tail)  # right marker and fingerprint, garbage body
    outcome(h, RAW, b"\x00\x00\x00\x00\x01" + tail)  # Confluent framing without a registry


CRASHERS = [
    {"event_id": "s1", "type": "contact_started", "contact_id": "s1", "timestamp": "²"},
    {"event_id": "s2", "type": "contact_started", "contact_id": "s2", "timestamp": "7" * 5000},
    {"event_id": "s3", "type": "contact_started", "contact_id": "s3", "timestamp": "2026-11-26T10:00:00Z",
     "sequence": 2**63},
    {"event_id": "s4", "type": "utterance", "contact_id": "s4", "timestamp": "2026-11-26T10:00:00Z",
     "speaker": "customer", "text": "hi", "begin_offset_ms": 2**64 - 1},
]
LENS_CRASHERS = [
    {"ContactId": "cl1", "EventType": "SEGMENTS", "Channel": "CHAT",
     "Segments": [{"Transcript": {"Id": "t1", "ParticipantRole": "CUSTOMER", "Content": "hi",
                                  "Time": {"AbsoluteTime": abs_time}}}]}
    for abs_time in ("²", "1" * 5000, "0001-01-01T00:00:00+14:00", "")
]


@pytest.mark.parametrize("doc", CRASHERS + LENS_CRASHERS)
def test_the_records_that_crash_looped_ingest_are_rejected_with_a_reason(doc: dict[str, Any]) -> None:
    result = outcome(handler(), LENS if "ContactId" in doc else RAW, to_json(doc))
    assert isinstance(result, Reject)


def test_avro_input_is_held_to_the_same_size_limit_before_decoding() -> None:
    big = VALID_BASE | {"text": "x" * 5000}
    h = handler(max_bytes=2048)
    for value in (to_json(big), SERDE.encode("io.cxpulse.raw.RawContactEvent", {f: big.get(f) for f in FIELDS})):
        result = outcome(h, RAW, value)
        assert isinstance(result, Reject) and result.reason == "oversized"
    assert isinstance(outcome(h, LENS, b"{" + b" " * 3000 + b"}"), Reject)


def test_an_avro_record_of_another_type_on_the_raw_topic_is_rejected_as_unexpected() -> None:
    from cxpulse_core.records import RawContactEvent, Utterance

    example = json.loads((schema_dir() / "examples" / "cx.interactions.jsonl").read_text().splitlines()[1])
    assert example["schema"] == Utterance.SCHEMA
    result = outcome(handler(), RAW, SERDE.encode(Utterance.SCHEMA, example["value"]))
    assert isinstance(result, Reject) and result.reason == "unexpected_schema" and Utterance.SCHEMA in result.detail
    (out,) = outcome(handler(), RAW, SERDE.encode(RawContactEvent.SCHEMA, {f: VALID_BASE.get(f) for f in FIELDS}
                                                  | {"type": "contact_started"}))
    assert out.schema == "io.cxpulse.interaction.ContactStarted" and out.key == VALID_BASE["contact_id"]


def test_dead_letters_keep_the_record_with_its_pii_redacted() -> None:
    raw = to_json({"event_id": "e", "type": "utterance", "text": "card 4111 1111 1111 1111, jane.doe@example.com"})
    kept = handler().deadletter_value(Message(RAW, raw + b"\xff"))
    assert b"4111" not in kept and b"jane.doe" not in kept and b"[CARD]" in kept
    assert kept.endswith(b"\xff")  # bytes that are not UTF-8 survive as they were
    clean = b'{"event_id": 1}'
    assert handler().deadletter_value(Message(RAW, clean)) == clean


def test_ids_that_hold_personal_data_are_rejected_or_hashed() -> None:
    for value in ("123-45-6789", "123456789", "jane.doe@example.com", "4111 1111 1111 1111", "+44 7700 900123"):
        doc = VALID_BASE | {"type": "contact_started", "account_id": value}
        result = outcome(handler(), RAW, to_json(doc))
        assert isinstance(result, Reject) and result.reason == "pii_in_id", value
    keyed = IngestHandler(Ingestor(IngestRules(id_hash_key=b"k")), {RAW: "cxpulse", LENS: "contact-lens"},
                          "cx.interactions", SERDE)
    (out,) = outcome(keyed, RAW, to_json(VALID_BASE | {"type": "contact_started", "account_id": "123-45-6789"}))
    assert out.value["account_id"].startswith("h-") and "6789" not in out.value["account_id"]
    (plain,) = outcome(handler(), RAW, to_json(VALID_BASE | {"type": "contact_started", "event_id": "e-2",
                                                             "account_id": "acct-2026-001"}))
    assert plain.value["account_id"] == "acct-2026-001"  # an ordinary id is left alone


def test_the_ingest_dead_letters_are_kept_no_longer_than_the_raw_topics() -> None:
    from cxpulse_core.topics import load_topics

    retention = {spec.name: spec.retention_ms for spec in load_topics()}
    raw = min(retention["cx.raw.contact-events"], retention["cx.raw.contact-lens"])
    assert retention["cx.deadletter.ingest"] <= raw
