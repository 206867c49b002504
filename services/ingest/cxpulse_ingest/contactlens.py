"""Amazon Connect Contact Lens real-time segment stream event -> RawEvents.

Follows AWS's published data model: voice events (Version 1.0.0, "EventType", "LanguageCode", segments
Utterance/Transcript/Categories/PostContactSummary) and chat events (Version 2.0.0, "StreamingEventType",
"StreamingSettings.LanguageCode", Transcript segments with "Time": {"AbsoluteTime": ...}). See
tests/fixtures/contact_lens/README.md for the pages.

Choices: only Transcript segments become utterances. Utterance segments are partial pieces of a
Transcript (same TranscriptId) that AWS publishes again in full, so emitting both would double every
turn; they are counted and dropped (we trade ~seconds of latency for one clean turn). Categories yield no
interaction event; their names are returned for counting. Other segments (PostContactSummary, Issues,
Event, Attachment) are counted as ignored. Ids are ContactId + segment Id, so a retried or a
Redacted-and-Raw duplicate of the same segment carries the same event_id and is dropped by dedup."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .contract import ID_MAX_CHARS, LANGUAGE_TAG, MAX_INT, parse_timestamp
from .raw_event import RawEvent, Rejected

SPEAKER_BY_ROLE = {"CUSTOMER": "customer", "AGENT": "agent", "SYSTEM": "system", "CUSTOM_BOT": "bot",
                   "SUPERVISOR": "agent"}  # a supervisor barging in speaks on the agent side
CHANNEL_BY_CL = {"VOICE": "voice", "CHAT": "chat"}
EVENT_TYPES = ("STARTED", "SEGMENTS", "COMPLETED", "FAILED")
IGNORED_SEGMENTS = frozenset({"PostContactSummary", "Issues", "Event", "Attachments", "Attachment"})


@dataclass
class ContactLensBatch:
    events: list[RawEvent]
    utterance_partials: int = 0
    ignored_segments: int = 0
    categories: list[str] = field(default_factory=list)


def _string(doc: dict[str, Any], name: str, where: str, max_chars: int | None = None) -> str:
    value = doc.get(name)
    if value is None:
        raise Rejected("missing_field", where + name, "required")
    if type(value) is not str:
        raise Rejected("wrong_type", where + name, f"expected string, got {type(value).__name__}")
    if not value or value.isspace():
        raise Rejected("invalid_value", where + name, "empty or blank")
    if max_chars is not None and len(value) > max_chars:
        raise Rejected("invalid_value", where + name, f"longer than {max_chars} characters")
    return value


def _optional_int(doc: dict[str, Any], name: str, where: str) -> int | None:
    value = doc.get(name)
    if value is not None and (type(value) is not int or not 0 <= value <= MAX_INT):
        raise Rejected("wrong_type" if type(value) is not int else "invalid_value", where + name,
                       "expected a non-negative integer")
    return value


def adapt(doc: dict[str, Any], received_ms: int) -> ContactLensBatch:
    """One Contact Lens event -> RawEvents. received_ms (the Kafka record time) stands in for event time
    where AWS gives none: voice segments carry only offsets from the start of the contact."""
    contact_id = _string(doc, "ContactId", "", ID_MAX_CHARS)
    event_type = doc.get("EventType", doc.get("StreamingEventType"))
    if event_type is None:
        raise Rejected("missing_field", "EventType", "required (StreamingEventType for chat)")
    if event_type not in EVENT_TYPES:
        raise Rejected("unknown_event_type", "EventType", "expected STARTED, SEGMENTS, COMPLETED or FAILED")
    channel = CHANNEL_BY_CL.get(_string(doc, "Channel", ""))
    if channel is None:
        raise Rejected("invalid_value", "Channel", "expected VOICE or CHAT")
    settings = doc.get("StreamingSettings")
    language = doc.get("LanguageCode") or (settings.get("LanguageCode") if type(settings) is dict else None)
    if language is not None and type(language) is not str:
        raise Rejected("wrong_type", "LanguageCode", "expected string")
    if language is not None and not LANGUAGE_TAG.fullmatch(language):
        raise Rejected("invalid_value", "LanguageCode", "expected a BCP 47 tag such as en-US")
    common = {"contact_id": contact_id, "channel": channel, "language": language, "timestamp_ms": received_ms}
    if event_type == "STARTED":
        return ContactLensBatch([RawEvent(event_id=f"cl:{contact_id}:started", type="contact_started", **common)])
    if event_type != "SEGMENTS":
        status = "completed" if event_type == "COMPLETED" else "failed"
        # One id for both ends: a session ends once, so a FAILED replayed after COMPLETED is a duplicate.
        return ContactLensBatch([RawEvent(event_id=f"cl:{contact_id}:ended", type="contact_ended",
                                          status=status, **common)])
    return _segments(doc, common)


def _segments(doc: dict[str, Any], common: dict[str, Any]) -> ContactLensBatch:
    segments = doc.get("Segments")
    if segments is None:
        raise Rejected("missing_field", "Segments", "required for SEGMENTS")
    if type(segments) is not list:
        raise Rejected("wrong_type", "Segments", "expected array")
    batch = ContactLensBatch([])
    for i, segment in enumerate(segments):
        if type(segment) is not dict or len(segment) != 1:
            raise Rejected("wrong_type", f"Segments[{i}]", "expected an object with exactly one segment")
        (kind, body), = segment.items()
        where = f"Segments[{i}].{kind}."
        if type(body) is not dict:
            raise Rejected("wrong_type", where[:-1], "expected object")
        if kind == "Transcript":
            batch.events.append(_transcript(body, where, common))
        elif kind == "Utterance":
            batch.utterance_partials += 1
        elif kind == "Categories":
            matched = body.get("MatchedCategories", [])
            if type(matched) is not list or not all(type(name) is str for name in matched):
                raise Rejected("wrong_type", where + "MatchedCategories", "expected array of strings")
            batch.categories.extend(matched)
        else:  # PostContactSummary, Issues, Event, Attachments and segment kinds AWS adds later
            batch.ignored_segments += 1
    return batch


def _transcript(body: dict[str, Any], where: str, common: dict[str, Any]) -> RawEvent:
    transcript_id = _string(body, "Id", where, ID_MAX_CHARS)
    role = _string(body, "ParticipantRole", where)
    text = _string(body, "Content", where)
    begin = _optional_int(body, "BeginOffsetMillis", where)
    end = _optional_int(body, "EndOffsetMillis", where)
    if begin is not None and end is not None and end < begin:
        raise Rejected("invalid_value", where + "EndOffsetMillis", "ends before BeginOffsetMillis")
    event_time = common["timestamp_ms"]
    time = body.get("Time")
    if type(time) is dict and time.get("AbsoluteTime") is not None:
        absolute = time["AbsoluteTime"]
        if type(absolute) is not str:
            raise Rejected("wrong_type", where + "Time.AbsoluteTime", "expected string")
        event_time = parse_timestamp(absolute, where + "Time.AbsoluteTime")
    return RawEvent(event_id=f"cl:{common['contact_id']}:t:{transcript_id}", type="utterance",
                    contact_id=common["contact_id"], timestamp_ms=event_time, channel=common["channel"],
                    language=common["language"], speaker=SPEAKER_BY_ROLE.get(role, "unknown"), text=text,
                    begin_offset_ms=begin, end_offset_ms=end, utterance_id=transcript_id)
