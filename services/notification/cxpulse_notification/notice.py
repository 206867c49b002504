"""What the service works on: a Notice (a SupervisorAlert or an Escalation, normalised) and a Delivery (one
notice to one target, with its retry state and the input it came from)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from cxpulse_core.loop import Deferred
from cxpulse_core.records import Escalation, Record, SupervisorAlert

from .limits import dedup_key
from .policy import AttemptResult
from .routes import Target

PRIORITY_SEVERITY = {1: "critical", 2: "warning"}  # escalation priority -> severity; 3..5 are info


@dataclass(frozen=True)
class Notice:
    kind: str  # alert or escalation
    alert_id: str  # the idempotency key receivers deduplicate by
    contact_id: str
    severity: str
    team: str
    rule: str
    summary: str
    reason: str
    origin_time: int
    event_time: int
    details: dict[str, Any]  # every other field of the record, for payloads and templates

    def facts(self) -> dict[str, str]:
        return {"kind": self.kind, "team": self.team, "rule": self.rule, "severity": self.severity}


def to_notice(record: Record) -> Notice:
    """Raises ValueError for a record of another type."""
    match record:
        case SupervisorAlert() as alert:
            return Notice("alert", alert.alert_id, alert.contact_id, alert.severity, alert.team, alert.rule,
                          alert.summary, alert.reason, alert.origin_time, alert.event_time, alert.to_dict())
        case Escalation() as escalation:
            severity = PRIORITY_SEVERITY.get(escalation.priority, "info")
            summary = (f"Escalation of {escalation.contact_id} to {escalation.target_queue} "
                       f"(priority {escalation.priority}): {escalation.reason}")
            return Notice("escalation", escalation.event_id, escalation.contact_id, severity,
                          escalation.queue or "default", escalation.rule, summary, escalation.reason,
                          escalation.origin_time, escalation.event_time, escalation.to_dict())
    raise ValueError(f"unexpected record type {record.SCHEMA}")


@dataclass(eq=False)
class Delivery:
    """One notice to one target: the attempts' state, and the input it came from (its Deferred: the loop stores
    the input's offset once every delivery of it is final)."""

    notice: Notice
    target: Target
    source: Deferred
    partition: int  # the input's: where the delivery's outcome is kept
    attempt: int = 1
    cancelled: bool = False  # its partition went to another consumer, which resumes it
    failing_since_ms: int | None = None  # first failed attempt (wall clock)
    retry_logged: float | None = None  # monotonic time of the last retry record

    @property
    def key(self) -> str:
        return dedup_key(self.notice.alert_id, self.target.channel, self.target.recipient)


class Sender(Protocol):
    def send(self, notice: Notice, target: Target) -> AttemptResult: ...


@dataclass(frozen=True)
class Topics:
    alerts: str
    escalations: str
    log: str
    deadletter: str
    delivered: str


def log_fields(delivery: Delivery, result: AttemptResult | None, delay_s: float | None = None) -> dict[str, object]:
    fields: dict[str, object] = {"alert_id": delivery.notice.alert_id, "channel": delivery.target.channel,
                                 "recipient": delivery.target.recipient, "attempt": delivery.attempt}
    if result is not None:
        fields |= {"status_code": result.status_code, "error": result.error}
    if delay_s is not None:
        fields["retry_in_s"] = round(delay_s, 3)
    return fields
