from __future__ import annotations

import json
from typing import Any

import pytest
from ingest_testdata import REPO_ROOT, raw_examples

from cxpulse_ingest.contract import parse_raw_event, parse_timestamp
from cxpulse_ingest.raw_event import Rejected

GOOD = {"event_id": "e1", "type": "utterance", "contact_id": "c1", "timestamp": "2024-05-01T10:30:00Z",
        "speaker": "customer", "text": "hello"}


def reject(doc: Any, max_bytes: int = 65536) -> Rejected:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    with pytest.raises(Rejected) as info:
        parse_raw_event(raw, max_bytes)
    return info.value


def with_(**changes: Any) -> dict[str, Any]:
    doc = dict(GOOD)
    for k, v in changes.items():
        if v is ...:
            del doc[k]
        else:
            doc[k] = v
    return doc


def test_valid_bytes_and_dict_give_the_same_event() -> None:
    from_bytes = parse_raw_event(json.dumps(GOOD).encode())
    from_dict = parse_raw_event(dict(GOOD))
    assert from_bytes == from_dict
    assert from_bytes.timestamp_ms == 1714559400000 and from_bytes.speaker == "customer"


def test_avro_style_dict_with_all_optional_keys_null_is_accepted() -> None:
    fields = json.loads((REPO_ROOT / "schemas/raw/RawContactEvent.avsc").read_text())["fields"]
    doc = {f["name"]: None for f in fields} | {k: GOOD[k] for k in GOOD}
    assert parse_raw_event(doc).text == "hello"


@pytest.mark.parametrize("example", raw_examples(), ids=lambda e: e["event_id"])
def test_every_documented_example_passes_the_validator(example: dict[str, Any]) -> None:
    event = parse_raw_event(json.dumps(example).encode())
    assert event.event_id == example["event_id"] and event.type == example["type"]


@pytest.mark.parametrize("example", raw_examples(), ids=lambda e: e["event_id"])
def test_every_documented_example_passes_the_json_schema(example: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")  # not pinned in the venv yet; runs once it is
    schema = json.loads((REPO_ROOT / "schemas/raw/raw-contact-event.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(example)


@pytest.mark.parametrize(("raw", "reason", "field"), [
    (b"\xff\xfe{}", "invalid_utf8", None),
    (b'{"event_id": "e1",', "invalid_json", None),
    (b'{"event_id": NaN}', "invalid_json", None),
    (b"[1, 2]", "wrong_type", None),
])
def test_byte_level_reasons(raw: bytes, reason: str, field: str | None) -> None:
    e = reject(raw)
    assert (e.reason, e.field) == (reason, field)


def test_oversized_is_checked_before_decoding() -> None:
    e = reject(b"\xff" * 100, max_bytes=10)
    assert e.reason == "oversized" and "100 bytes" in e.detail


@pytest.mark.parametrize("name", ["event_id", "type", "contact_id", "timestamp"])
def test_missing_required_field_is_named(name: str) -> None:
    e = reject(with_(**{name: ...}))
    assert (e.reason, e.field) == ("missing_field", name)


@pytest.mark.parametrize(("changes", "field", "expected", "got"), [
    ({"event_id": 12}, "event_id", "string", "integer"),
    ({"timestamp": 1714559400000}, "timestamp", "string", "integer"),
    ({"contact_id": None}, "contact_id", "string", "null"),
    ({"sequence": "3"}, "sequence", "integer", "string"),
    ({"sequence": 3.0}, "sequence", "integer", "number"),
    ({"sequence": True}, "sequence", "integer", "boolean"),
    ({"text": ["hi"]}, "text", "string", "array"),
    ({"begin_offset_ms": {"ms": 1}}, "begin_offset_ms", "integer", "object"),
])
def test_wrong_type_names_field_expected_and_got(changes: dict[str, Any], field: str, expected: str,
                                                 got: str) -> None:
    e = reject(with_(**changes))
    assert (e.reason, e.field) == ("wrong_type", field)
    assert f"expected {expected}" in e.detail and e.detail.endswith(f"got {got}")


def test_unknown_event_type() -> None:
    assert reject(with_(type="hangup")).reason == "unknown_event_type"


@pytest.mark.parametrize("timestamp", ["yesterday", "2024-05-01T10:30:00", "1714559400", "2024-13-01T00:00:00Z",
                                       "99999999999999999"])
def test_invalid_timestamp(timestamp: str) -> None:
    e = reject(with_(timestamp=timestamp))
    assert (e.reason, e.field) == ("invalid_timestamp", "timestamp")


def test_timestamp_forms_agree() -> None:
    assert parse_timestamp("2024-05-01T12:30:00+02:00") == parse_timestamp("1714559400000") == 1714559400000
    assert parse_timestamp("2024-05-01T10:30:00.123Z") == 1714559400123


@pytest.mark.parametrize(("changes", "field"), [
    ({"speaker": "robot"}, "speaker"),
    ({"text": "   "}, "text"),
    ({"text": ""}, "text"),
    ({"event_id": ""}, "event_id"),
    ({"contact_id": "x" * 257}, "contact_id"),
    ({"channel": "fax"}, "channel"),
    ({"language": "english please"}, "language"),
    ({"sequence": -1}, "sequence"),
    ({"begin_offset_ms": 10, "end_offset_ms": 5}, "end_offset_ms"),
    ({"begin_offset_ms": -5}, "begin_offset_ms"),
    ({"type": "contact_ended", "status": "exploded"}, "status"),
])
def test_invalid_value(changes: dict[str, Any], field: str) -> None:
    e = reject(with_(**changes))
    assert (e.reason, e.field) == ("invalid_value", field)


@pytest.mark.parametrize("name", ["speaker", "text"])
def test_utterance_needs_speaker_and_text(name: str) -> None:
    e = reject(with_(**{name: ...}))
    assert (e.reason, e.field) == ("missing_field", name)


def test_contact_started_needs_no_speaker_or_text() -> None:
    event = parse_raw_event(with_(type="contact_started", speaker=..., text=...))
    assert event.type == "contact_started"


def test_rejection_detail_never_echoes_values() -> None:
    secret = "4111111111111111"
    for doc in (with_(speaker=secret), with_(timestamp=secret + "x"), with_(channel=secret),
                with_(type=secret), with_(language=secret)):
        e = reject(doc)
        assert secret not in str(e) and secret not in e.detail
    e = reject(b'{"text": "' + secret.encode() + b'", \xff}')
    assert secret not in str(e)
