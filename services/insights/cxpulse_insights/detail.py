"""Per-contact detail for the supervisor's drill-down and the live timelines: the contact's context, every scored
turn (redacted text, label, score, emotions, model version), the guidance shown to the agent, alerts,
escalations and the latest quality score. Pure data, no locking (InsightsState holds its lock around every
call). Bounded: at most `max_contacts` contacts (least recently active dropped first) and `max_turns` turns each,
so a long-running dashboard does not grow without bound.

A settled contact (ended, its late records no longer expected: InsightsState.settle) is frozen: its detail kept as
one compressed JSON block instead of ~60 small objects. The drill-down keeps up to `max_contacts` contacts for
hours; as small objects, allocated among the short-lived state of the contacts in progress, each would pin a page
of the heap after those contacts expire (cxpulse_core.memory), and they take several times the space. A record
that still comes for a frozen contact thaws it."""

from __future__ import annotations

import json
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from typing import Any

from cxpulse_core.memory import compacted
from cxpulse_core.records import AgentGuidance, ContactSummary, Escalation, SupervisorAlert, UtteranceSentiment

# Any input record of a contact: all carry contact_id and the context fields below, some of them as None.
ContactRecord = UtteranceSentiment | AgentGuidance | SupervisorAlert | Escalation | ContactSummary
CONTEXT = ("contact_id", "account_id", "agent_id", "queue", "channel", "journey_stage")
TOP_EMOTIONS = 3
MARKER_KINDS = ("alert", "escalation")


@dataclass
class ContactDetail:
    context: dict[str, Any]
    turns: dict[int, dict[str, Any]] = field(default_factory=dict)
    guidance: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    corrections: list[dict[str, Any]] = field(default_factory=list)
    quality: dict[str, Any] | None = None
    ended_time: int | None = None

    def last_turn(self) -> int | None:
        return max(self.turns) if self.turns else None

    def frozen(self) -> bytes:
        """This detail as one block (JSON, its turns as a list, compressed)."""
        fields = {f.name: getattr(self, f.name) for f in dataclass_fields(self)} | {"turns": list(self.turns.values())}
        return zlib.compress(json.dumps(fields, separators=(",", ":")).encode(), 1)

    @classmethod
    def thawed(cls, block: bytes) -> ContactDetail:
        fields = json.loads(zlib.decompress(block))
        return cls(**fields | {"turns": {t["turn"]: t for t in fields["turns"]}})


def _at_turn(record: SupervisorAlert | Escalation, detail: ContactDetail) -> int | None:
    """The turn an alert or escalation belongs to: its latest evidence turn, else the latest turn seen."""
    evidence = [e.turn for e in record.evidence]
    return max(evidence) if evidence else detail.last_turn()


class ContactLog:
    def __init__(self, max_contacts: int, max_turns: int, max_events: int = 50) -> None:
        self.max_contacts, self.max_turns, self.max_events = max_contacts, max_turns, max_events
        self._contacts: OrderedDict[str, ContactDetail | bytes] = OrderedDict()  # bytes: frozen

    def __len__(self) -> int:
        return len(self._contacts)

    def _touch(self, record: ContactRecord) -> ContactDetail:
        cid = record.contact_id
        detail = self._contacts.get(cid)
        if detail is None:
            detail = self._contacts[cid] = ContactDetail({k: getattr(record, k, None) for k in CONTEXT})
            while len(self._contacts) > self.max_contacts:
                self._contacts.popitem(last=False)
        else:
            if isinstance(detail, bytes):
                detail = self._contacts[cid] = ContactDetail.thawed(detail)
            self._contacts.move_to_end(cid)
            for k in CONTEXT:  # a later record may know what an earlier one did not (e.g. the agent)
                if detail.context.get(k) is None and (value := getattr(record, k, None)) is not None:
                    detail.context[k] = value
        return detail

    def _append(self, items: list[dict[str, Any]], item: dict[str, Any], key: str) -> None:
        if all(x.get(key) != item.get(key) for x in items):  # a redelivered record replaces nothing
            items.append(item)
            del items[:-self.max_events]

    def utterance(self, u: UtteranceSentiment) -> bool:
        """Keeps a scored turn; True when the turn is new (not a redelivery)."""
        detail = self._touch(u)
        turns = detail.turns
        new = u.turn not in turns
        if new and len(turns) >= self.max_turns:
            return False  # the first max_turns turns are kept: a runaway contact cannot fill the memory
        emotions = sorted(u.emotions.items(), key=lambda kv: -kv[1])[:TOP_EMOTIONS]
        turns[u.turn] = {
            "turn": u.turn, "utterance_id": u.utterance_id, "speaker": u.speaker, "text": u.text,
            "label": u.label, "score": u.score,
            "emotions": [{"name": k, "score": round(v, 3)} for k, v in emotions],
            "model_version": u.model_version, "event_time": u.event_time}
        return new

    def guidance(self, g: AgentGuidance) -> None:
        self._append(self._touch(g).guidance, {k: getattr(g, k) for k in (
            "event_id", "turn", "emotion", "tone", "event_time")} | {"phrases": [p.text for p in g.phrases]},
            "event_id")

    def alert(self, a: SupervisorAlert) -> None:
        detail = self._touch(a)
        self._append(detail.alerts, {k: getattr(a, k) for k in ("alert_id", "rule", "severity", "summary", "reason",
                                                                "event_time")} | {"turn": _at_turn(a, detail)},
                     "alert_id")

    def escalation(self, e: Escalation) -> None:
        detail = self._touch(e)
        self._append(detail.escalations, {k: getattr(e, k) for k in (
            "event_id", "rule", "reason", "target_queue", "priority", "event_time")} | {"turn": _at_turn(e, detail)},
            "event_id")

    def ended(self, summary: ContactSummary, quality: dict[str, Any]) -> None:
        detail = self._touch(summary)
        detail.ended_time, detail.quality = summary.ended_time, quality

    def corrected(self, correction: dict[str, Any]) -> None:
        cid = correction["contact_id"]
        detail = self.get(cid)
        if detail is not None:
            self._contacts[cid] = detail  # thawed, if it was frozen (where it was in the order)
            self._append(detail.corrections, correction, "event_id")

    def freeze(self, cid: str) -> None:
        """The contact's detail kept as one block from now on (see the module's doc)."""
        detail = self._contacts.get(cid)
        if isinstance(detail, ContactDetail):
            self._contacts[cid] = detail.frozen()

    def forget(self, cid: str) -> None:
        """A contact that never ended, past its TTL: it has left the live views, its transcript goes with it."""
        self._contacts.pop(cid, None)

    def compact(self) -> None:
        self._contacts = compacted(self._contacts)

    def frozen(self, cid: str) -> bool:
        return isinstance(self._contacts.get(cid), bytes)

    def get(self, cid: str) -> ContactDetail | None:
        detail = self._contacts.get(cid)
        return ContactDetail.thawed(detail) if isinstance(detail, bytes) else detail

    def series(self, cid: str, points: int) -> dict[str, Any]:
        """The last `points` turns of customer and agent as [turn, score] pairs, with alert and escalation
        markers: what a live timeline draws."""
        detail = self.get(cid)
        if detail is None:
            return {"customer": [], "agent": [], "markers": []}
        recent = [detail.turns[t] for t in sorted(detail.turns)[-points:]]
        first = recent[0]["turn"] if recent else 0
        latest = recent[-1]["turn"] if recent else None  # where a marker read before any turn is drawn
        markers = [{"kind": kind, "turn": at, "label": x.get("rule")}
                   for kind, items in (("alert", detail.alerts), ("escalation", detail.escalations))
                   for x in items if (at := x["turn"] if x["turn"] is not None else latest) is not None
                   and at >= first]
        return {"customer": [[t["turn"], round(t["score"], 3)] for t in recent if t["speaker"] == "customer"],
                "agent": [[t["turn"], round(t["score"], 3)] for t in recent if t["speaker"] == "agent"],
                "markers": markers}

    def view(self, cid: str, live: bool, churn: dict[str, Any] | None) -> dict[str, Any] | None:
        """The drill-down of one contact: the transcript turn by turn with what happened at each turn."""
        detail = self.get(cid)
        if detail is None:
            return None
        at: dict[int | None, dict[str, list[dict[str, Any]]]] = {}
        for kind, items in (("guidance", detail.guidance), ("alerts", detail.alerts),
                            ("escalations", detail.escalations), ("corrections", detail.corrections)):
            for item in items:
                at.setdefault(item.get("turn"), {}).setdefault(kind, []).append(item)
        turns = [t | {kind: at.get(n, {}).get(kind, []) for kind in ("guidance", "alerts", "escalations",
                                                                      "corrections")}
                 for n, t in sorted(detail.turns.items())]
        return {**detail.context, "status": "live" if live else "ended", "ended_time": detail.ended_time,
                "turns": turns, "alerts": list(detail.alerts), "escalations": list(detail.escalations),
                "guidance": list(detail.guidance), "quality": detail.quality, "churn": churn}
