"""What the service works on: a Notice (a SupervisorAlert or an Escalation, normalised) and a Delivery (one
notice to one target, with its retry state and the input it came from)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from cxpulse_core.loop import Deferred

from .limits import dedup_key
from .policy import AttemptResult
from .routes import Target

ALERT_SCHEMA = "io.cxpulse.routing.SupervisorAlert"
ESCALATION_SCHEMA = "io.cxpulse.routing.Escalation"
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


def to_notice(schema: str, value: dict[str, Any]) -> Notice:
    """Raises ValueError for a record of another type."""
    if schema == ALERT_SCHEMA:
        return Notice("alert", value["alert_id"], value["contact_id"], value["severity"], value["team"],
                      value["rule"], value["summary"], value["reason"], value["origin_time"], value["event_time"],
                      value)
    if schema == ESCALATION_SCHEMA:
        severity = PRIORITY_SEVERITY.get(value["priority"], "info")
        summary = (f"Escalation of {value['contact_id']} to {value['target_queue']} (priority {value['priority']}): "
                   f"{value['reason']}")
        return Notice("escalation", value["event_id"], value["contact_id"], severity, value.get("queue") or "default",
                      value["rule"], summary, value["reason"], value["origin_time"], value["event_time"], value)
    raise ValueError(f"unexpected record type {schema}")


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
