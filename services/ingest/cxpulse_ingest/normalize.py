"""RawEvent -> its typed interaction record (cxpulse_core.records: ContactStarted, Utterance, ContactEnded), the
records of schemas/interaction/*.avsc.

Times stay epoch-ms ints (the serde converts). produced_time is set to ingest_time here and overwritten by
the producer step. Contact fields an event lacks are taken from the contact's contact_started, so every
utterance carries account/agent/queue/channel for downstream joins without a lookup."""

from __future__ import annotations

from cxpulse_core.records import ContactEnded, ContactStarted, Speaker, Utterance

from .raw_event import RawEvent
from .redact import Redactor

Interaction = ContactStarted | Utterance | ContactEnded
CONTEXT_FIELDS = ("account_id", "customer_id", "agent_id", "queue", "channel", "journey_stage", "language")
DEFAULT_CHANNEL = "voice"
DEFAULT_LANGUAGE = "en-US"
_NO_CONTEXT: dict[str, str | None] = {}


def contact_context(event: RawEvent) -> dict[str, str | None]:
    """What a contact_started tells about the whole contact."""
    return {name: getattr(event, name) for name in CONTEXT_FIELDS}


def normalize(event: RawEvent, *, sequence: int, turn: int, source: str, origin_time_ms: int, now_ms: int,
              redactor: Redactor, context: dict[str, str | None] | None = None,
              started_ms: int | None = None) -> Interaction:
    ctx = context or _NO_CONTEXT
    common = {
        "event_id": event.event_id,
        "contact_id": event.contact_id,
        "account_id": event.account_id or ctx.get("account_id"),
        "customer_id": event.customer_id or ctx.get("customer_id"),
        "agent_id": event.agent_id or ctx.get("agent_id"),
        "queue": event.queue or ctx.get("queue"),
        "channel": event.channel or ctx.get("channel") or DEFAULT_CHANNEL,
        "journey_stage": event.journey_stage or ctx.get("journey_stage"),
        "language": event.language or ctx.get("language") or DEFAULT_LANGUAGE,
        "sequence": sequence,
        "source": source,
        "event_time": event.timestamp_ms,
        "ingest_time": now_ms,
        "origin_time": origin_time_ms,
        "produced_time": now_ms,
    }
    kind = event.type
    if kind == "utterance":
        # Keyed by contact and speaker: a card read out over two consecutive turns is caught in the second.
        text, counts = redactor.redact(event.text or "", carry=f"{event.contact_id}\x00{event.speaker}")
        return Utterance(**common, utterance_id=event.utterance_id or event.event_id, turn=turn,
                         speaker=Speaker(event.speaker), text=text, begin_offset_ms=event.begin_offset_ms,
                         end_offset_ms=event.end_offset_ms, redactions=counts)
    if kind == "contact_started":
        return ContactStarted(**common, reason=event.reason)
    duration = event.timestamp_ms - started_ms if started_ms is not None else None
    return ContactEnded(**common, status=event.status or "completed", disposition=event.disposition,
                        duration_ms=duration if duration is not None and duration >= 0 else None)
