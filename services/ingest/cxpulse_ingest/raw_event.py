"""The typed raw event every input format is turned into, and the one error every check raises.

Kept free of parsing so the Contact Lens adapter, the validator and the normaliser share it without cycles."""

from __future__ import annotations

from dataclasses import dataclass

EVENT_TYPES = frozenset({"contact_started", "utterance", "contact_ended"})
# Speakers the raw contract accepts; "unknown" is output-only (the adapter uses it for roles AWS may add later).
RAW_SPEAKERS = frozenset({"customer", "agent", "bot", "system"})
OUTPUT_SPEAKERS = RAW_SPEAKERS | {"unknown"}
CHANNELS = frozenset({"voice", "chat", "email", "sms", "social"})
END_STATUSES = frozenset({"completed", "failed", "abandoned"})


class Rejected(Exception):  # noqa: N818 - the name the contract uses for the verdict, not an "error"
    """An input we will not process. `detail` names fields and types only, never the offending value,
    because values (text above all) may carry PII and this message ends up in dead-letter headers and logs."""

    def __init__(self, reason: str, field: str | None, detail: str) -> None:
        super().__init__(f"{reason}: {field or '-'}: {detail}")
        self.reason = reason
        self.field = field
        self.detail = detail


@dataclass(slots=True)
class RawEvent:
    """One validated raw event. Times are epoch milliseconds; optional fields are None when absent."""

    event_id: str
    type: str
    contact_id: str
    timestamp_ms: int
    sequence: int | None = None
    account_id: str | None = None
    customer_id: str | None = None
    agent_id: str | None = None
    queue: str | None = None
    channel: str | None = None
    journey_stage: str | None = None
    language: str | None = None
    speaker: str | None = None
    text: str | None = None
    begin_offset_ms: int | None = None
    end_offset_ms: int | None = None
    status: str | None = None
    disposition: str | None = None
    reason: str | None = None
    # Not in the raw contract: the Contact Lens adapter sets it to AWS's transcript Id so the output
    # utterance_id is the upstream one; for cxpulse input the event_id doubles as the utterance id.
    utterance_id: str | None = None
