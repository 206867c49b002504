"""Parse and validate cxpulse's raw contract (schemas/raw/raw-contact-event.schema.json, RawContactEvent.avsc).

Hand-written checks rather than the jsonschema library: they run per event on the hot path (several
times faster), and they can name the precise reason. tests/test_contract.py keeps both in step."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from .raw_event import CHANNELS, END_STATUSES, EVENT_TYPES, RAW_SPEAKERS, RawEvent, Rejected

DEFAULT_MAX_BYTES = 64 * 1024
ID_MAX_CHARS = 256
# Epoch-ms plausibility window: rejects epoch *seconds* (which would land in 1970) and far-future garbage.
MIN_EPOCH_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
MAX_EPOCH_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,8}")

_REQUIRED_STRINGS = ("event_id", "type", "contact_id", "timestamp")
# Expected JSON type of every contract field, checked in one pass over the document's own keys (faster
# than ~20 lookups per event); keys not listed are ignored so producers may add fields.
_FIELD_TYPES: dict[str, type] = {name: str for name in _REQUIRED_STRINGS} | {
    name: str for name in ("account_id", "customer_id", "agent_id", "queue", "channel", "journey_stage",
                           "language", "speaker", "text", "status", "disposition", "reason")} | {
    name: int for name in ("sequence", "begin_offset_ms", "end_offset_ms")}
_TYPE_NAMES = {str: "string", int: "integer"}
# Integers must fit Avro's long (the output schemas); JSON allows any size and orjson gives up to 2**64-1.
MAX_INT = 2**63 - 1
# "2026-11-26T10:00:00.123456+05:30" is 32 characters; anything much longer is not a timestamp.
_TIMESTAMP_MAX_CHARS = 64
_EPOCH_MS_DIGITS = re.compile(r"[0-9]{1,16}")  # ASCII only: str.isdigit() is true for "²" and "٣"
_BYTES_TYPES = (bytes, bytearray)


def decode_json_object(raw: bytes, max_bytes: int) -> dict[str, Any]:
    """bytes -> dict, or Rejected(oversized | invalid_utf8 | invalid_json | wrong_type)."""
    if len(raw) > max_bytes:
        raise Rejected("oversized", None, f"{len(raw)} bytes, limit {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:  # str(e) would quote the offending byte; position and cause suffice
        raise Rejected("invalid_utf8", None, f"at byte {e.start}: {e.reason}") from None
    try:
        # orjson: strict JSON (no NaN/Infinity, no lone surrogates) at about a third of json's cost per event.
        value = orjson.loads(text)
    except json.JSONDecodeError as e:
        raise Rejected("invalid_json", None, f"{e.msg} at char {e.pos}") from None
    except (ValueError, RecursionError) as e:
        raise Rejected("invalid_json", None, type(e).__name__) from None
    if type(value) is not dict:
        raise Rejected("wrong_type", None, f"expected object, got {_json_type(value)}")
    return value


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), type(value).__name__)


def parse_timestamp(value: str, field: str = "timestamp") -> int:
    """ISO 8601 with a zone, or epoch milliseconds as ASCII digits -> epoch ms. Total: any string either
    gives a time in the plausibility window or raises Rejected."""
    if len(value) > _TIMESTAMP_MAX_CHARS:
        raise Rejected("invalid_timestamp", field, f"longer than {_TIMESTAMP_MAX_CHARS} characters")
    if _EPOCH_MS_DIGITS.fullmatch(value):
        ms = int(value)
    else:
        try:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise Rejected("invalid_timestamp", field, "ISO 8601 without a zone offset")
            ms = (moment - _EPOCH) // _ONE_MS
        except (ValueError, OverflowError, TypeError):
            raise Rejected("invalid_timestamp", field, "neither ISO 8601 nor epoch milliseconds") from None
    if not MIN_EPOCH_MS <= ms < MAX_EPOCH_MS:
        raise Rejected("invalid_timestamp", field, "outside 2000-01-01..2100-01-01 (epoch seconds instead of ms?)")
    return ms


def parse_raw_event(raw: bytes | dict[str, Any], max_bytes: int = DEFAULT_MAX_BYTES) -> RawEvent:
    """Raw JSON bytes, or the dict the Avro decoder gives, -> RawEvent; raises Rejected."""
    doc = decode_json_object(raw, max_bytes) if isinstance(raw, _BYTES_TYPES) else raw
    if type(doc) is not dict:
        raise Rejected("wrong_type", None, f"expected object, got {_json_type(doc)}")
    for name in _REQUIRED_STRINGS:
        if doc.get(name) is None:
            if name in doc:
                raise Rejected("wrong_type", name, "expected string, got null")
            raise Rejected("missing_field", name, "required")
    fields: dict[str, Any] = {}
    for name, value in doc.items():
        expected = _FIELD_TYPES.get(name)
        if expected is None or value is None:
            continue
        if type(value) is not expected:  # exact: bool is an int subclass and must not pass as one
            required = name in _REQUIRED_STRINGS
            raise Rejected("wrong_type", name, f"expected {_TYPE_NAMES[expected]}{'' if required else ' or null'}"
                                               f", got {_json_type(value)}")
        if expected is int and not -MAX_INT <= value <= MAX_INT:
            raise Rejected("invalid_value", name, "integer out of range (64-bit)")
        fields[name] = value
    timestamp = fields.pop("timestamp")
    event = RawEvent(timestamp_ms=0, **fields)
    check_values(event, timestamp)
    return event


def check_values(event: RawEvent, timestamp: str) -> None:
    """Value rules beyond types; shared by both raw forms. Fills event.timestamp_ms."""
    if event.type not in EVENT_TYPES:
        raise Rejected("unknown_event_type", "type", "expected contact_started, utterance or contact_ended")
    for name in ("event_id", "contact_id"):
        value = getattr(event, name)
        if not value or len(value) > ID_MAX_CHARS or value.isspace():
            raise Rejected("invalid_value", name, f"must be 1..{ID_MAX_CHARS} characters, not blank")
    event.timestamp_ms = parse_timestamp(timestamp)
    if event.sequence is not None and event.sequence < 0:
        raise Rejected("invalid_value", "sequence", "must be >= 0")
    if event.channel is not None and event.channel not in CHANNELS:
        raise Rejected("invalid_value", "channel", "expected voice, chat, email, sms or social")
    if event.language is not None and not LANGUAGE_TAG.fullmatch(event.language):
        raise Rejected("invalid_value", "language", "expected a BCP 47 tag such as en-US")
    if event.type == "utterance":
        _check_utterance(event)
    elif event.type == "contact_ended" and event.status is not None and event.status not in END_STATUSES:
        raise Rejected("invalid_value", "status", "expected completed, failed or abandoned")


def _check_utterance(event: RawEvent) -> None:
    if event.speaker is None:
        raise Rejected("missing_field", "speaker", "required for utterance")
    if event.speaker not in RAW_SPEAKERS:
        raise Rejected("invalid_value", "speaker", "expected customer, agent, bot or system")
    if event.text is None:
        raise Rejected("missing_field", "text", "required for utterance")
    if not event.text or event.text.isspace():
        raise Rejected("invalid_value", "text", "empty or blank")
    begin, end = event.begin_offset_ms, event.end_offset_ms
    if (begin is not None and begin < 0) or (end is not None and end < 0):
        raise Rejected("invalid_value", "begin_offset_ms" if begin is not None and begin < 0 else "end_offset_ms",
                       "must be >= 0")
    if begin is not None and end is not None and end < begin:
        raise Rejected("invalid_value", "end_offset_ms", "ends before begin_offset_ms")
