"""SimEvent -> the bytes a real producer would publish: cxpulse's raw contract (schemas/raw) or an Amazon
Connect Contact Lens real-time segment stream event (shapes of services/ingest/tests/fixtures/contact_lens:
voice Version 1.0.0 with EventType and offsets; chat Version 2.0.0 with StreamingEventType,
StreamingSettings and Time.AbsoluteTime). Event time = base_ms + at_s / speed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from cxpulse_core.topics import RAW_CONTACT_LENS, RAW_EVENTS

from .events import CONTACT_LENS, SimEvent

AWS_ACCOUNT = "123456789012"  # AWS's documentation example account
INSTANCE_ID = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
_NS = uuid.UUID("6f1c3a52-8d0e-4e3b-9a57-3c2d1b0e9f11")  # ids derived from the contact and sequence
TOPIC_BY_FORMAT = {"cxpulse": RAW_EVENTS, CONTACT_LENS: RAW_CONTACT_LENS}
_CX_FIELDS = {"contact_started": ("account_id", "customer_id", "agent_id", "queue", "channel", "journey_stage",
                                  "language", "reason"),
              "utterance": ("speaker", "text", "begin_offset_ms", "end_offset_ms"),
              "contact_ended": ("status", "disposition")}
_CL_EVENT = {"contact_started": "STARTED", "utterance": "SEGMENTS"}
_CL_ROLE = {"customer": "CUSTOMER", "agent": "AGENT", "bot": "CUSTOM_BOT", "system": "SYSTEM"}


def event_time_ms(event: SimEvent, base_ms: int, speed: float = 1.0) -> int:
    return base_ms + round(event.at_s * 1000 / speed)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_cxpulse(event: SimEvent, base_ms: int, speed: float = 1.0) -> dict[str, Any]:
    p = event.payload
    doc: dict[str, Any] = {"event_id": f"{event.contact_id}:{p['sequence']}", "type": p["type"],
                           "contact_id": event.contact_id, "timestamp": iso(event_time_ms(event, base_ms, speed)),
                           "sequence": p["sequence"]}
    doc.update({name: p[name] for name in _CX_FIELDS[p["type"]] if p.get(name) is not None})
    return doc


def _uid(*parts: object) -> str:
    return str(uuid.uuid5(_NS, ":".join(map(str, parts))))


def _sentiment(mood: int) -> str:
    return "POSITIVE" if mood >= 1 else "NEGATIVE" if mood <= -1 else "NEUTRAL"


def to_contact_lens(event: SimEvent, base_ms: int, speed: float = 1.0) -> dict[str, Any]:
    p = event.payload
    voice = p["channel"] == "voice"
    kind = _CL_EVENT.get(p["type"]) or ("FAILED" if p.get("status") == "failed" else "COMPLETED")
    doc: dict[str, Any] = {"Version": "1.0.0" if voice else "2.0.0", "Channel": "VOICE" if voice else "CHAT",
                           "AccountId": AWS_ACCOUNT, "InstanceId": INSTANCE_ID, "ContactId": event.contact_id}
    if voice:
        doc |= {"LanguageCode": p["language"], "EventType": kind}
    else:
        doc |= {"StreamingEventType": kind, "StreamingSettings": {
            "LanguageCode": p["language"], "Output": "RedactedAndRaw", "RedactionTypes": ["PII"],
            "RedactionTypesMetadata": {"PII": {"RedactionMaskMode": "PII"}}}}
    if kind == "SEGMENTS":
        if not voice:
            doc["OutputType"] = "Raw"
        doc["Segments"] = _segments(event, voice, base_ms, speed)
    return doc


def _segments(event: SimEvent, voice: bool, base_ms: int, speed: float) -> list[dict[str, Any]]:
    p = event.payload
    role = _CL_ROLE[p["speaker"]]
    transcript_id = _uid(event.contact_id, p["sequence"])
    begin, end = p["begin_offset_ms"], p["end_offset_ms"]
    segments: list[dict[str, Any]] = []
    if voice:
        transcript = {"Id": transcript_id, "ParticipantId": role, "ParticipantRole": role, "Content": p["text"],
                      "BeginOffsetMillis": begin, "EndOffsetMillis": end, "Sentiment": _sentiment(p["mood"])}
        if p.get("partials"):  # streaming pieces of the same Transcript, sent before it
            words = p["text"].split()
            cut = len(words) // 2
            middle = begin + (end - begin) * cut // len(words)
            for i, (text, b, e) in enumerate(((" ".join(words[:cut]), begin, middle),
                                              (" ".join(words[cut:]), middle, end))):
                segments.append({"Utterance": {"Id": _uid(transcript_id, i), "TranscriptId": transcript_id,
                                               "ParticipantId": role, "ParticipantRole": role, "PartialContent": text,
                                               "BeginOffsetMillis": b, "EndOffsetMillis": e}})
    else:
        transcript = {"Id": transcript_id, "ParticipantId": _uid(event.contact_id, role), "ParticipantRole": role,
                      "DisplayName": p.get("display_name") or role.title(), "Content": p["text"],
                      "ContentType": "text/plain", "Time": {"AbsoluteTime": iso(event_time_ms(event, base_ms, speed))}}
    segments.append({"Transcript": transcript})
    categories = p.get("categories") or []
    if categories:
        where = ({"BeginOffsetMillis": begin, "EndOffsetMillis": end} if voice
                 else {"TranscriptItems": [{"Id": transcript_id}]})
        segments.append({"Categories": {"MatchedCategories": categories, "MatchedDetails": {
            name: {"PointsOfInterest": [where]} for name in categories}}})
    return segments


def render(event: SimEvent, base_ms: int, speed: float = 1.0) -> tuple[str, bytes, bytes]:
    """-> (topic without prefix, key, value bytes)."""
    doc = (to_contact_lens if event.format == CONTACT_LENS else to_cxpulse)(event, base_ms, speed)
    return TOPIC_BY_FORMAT[event.format], event.contact_id.encode(), json.dumps(doc, separators=(",", ":")).encode()
