"""Rule evaluation on one contact's state: pure functions of (rules, state, update, churn risk), no Kafka, no
faust, no clock (cooldowns run on the update's event_time, so a replay makes the same decisions)."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any

from .rules import HISTORY_TURNS, SEVERITIES, SPEAKER_FIELDS, Rule, RuleSet


@dataclass
class ContactState:
    """What routing remembers per contact (a faust table value, JSON): recent customer turns and cooldowns."""

    last_turn: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)  # {turn, utterance_id, score, emotions}
    fired: dict[str, list[int]] = field(default_factory=dict)  # rule -> [last event_time ms, times fired]
    last_escalation_ms: int | None = None
    last_alert_ms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"last_turn": self.last_turn, "history": self.history, "fired": self.fired,
                "last_escalation_ms": self.last_escalation_ms, "last_alert_ms": self.last_alert_ms}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ContactState:
        return cls(**data) if data else cls()


@dataclass(frozen=True)
class Firing:
    """A rule that matched: what it asks for and why."""

    rule: Rule
    details: tuple[str, ...]
    evidence: tuple[dict[str, Any], ...]

    @property
    def reason(self) -> str:
        return f"{self.rule.reason}: {'; '.join(self.details)}"

    def team(self, facts: dict[str, Any]) -> str:
        assert self.rule.alert is not None
        values = {k: (v if v is not None else "default") for k, v in facts.items()}
        return string.Formatter().vformat(self.rule.alert.team, (), _Default(values)) or "default"


class _Default(dict):
    def __missing__(self, key: str) -> str:
        return "default"


@dataclass(frozen=True)
class Decisions:
    escalation: Firing | None = None
    alert: Firing | None = None
    matched: tuple[Firing, ...] = ()  # every rule whose conditions held, cooldown-suppressed ones included
    suppressed: tuple[str, ...] = ()  # names of matched rules that produced nothing (cooldown, limit, outranked)


def facts(update: dict[str, Any], churn: dict[str, Any] | None) -> dict[str, Any]:
    """The flat field namespace rules compare against (see rules.FIELDS)."""
    out: dict[str, Any] = {k: update.get(k) for k in ("turn", "speaker", "last_score", "last_label", "account_id",
                                                       "customer_id", "agent_id", "queue", "channel", "journey_stage")}
    for who in ("customer", "agent"):
        out.update({f"{who}.{f}": (update.get(who) or {}).get(f) for f in SPEAKER_FIELDS})
    out.update({f"emotions.{e}": p for e, p in (update.get("last_emotions") or {}).items()})
    out["churn.probability"] = churn.get("probability") if churn else None
    out["churn.band"] = churn.get("band") if churn else None
    return out


def _compare(op: str, arg: Any, value: Any, lists: dict[str, frozenset[str]]) -> bool:
    if value is None:  # an unknown value (no churn score yet, no account) never satisfies a comparison
        return op == "ne" or op == "not_in"
    checks = {"lt": lambda: value < arg, "lte": lambda: value <= arg, "gt": lambda: value > arg,
              "gte": lambda: value >= arg, "eq": lambda: value == arg, "ne": lambda: value != arg,
              "in": lambda: value in arg, "not_in": lambda: value not in arg,
              "matches": lambda: re.search(str(arg), str(value)) is not None,
              "in_list": lambda: str(value) in lists[arg]}
    if op in checks:
        return bool(checks[op]())
    raise ValueError(op)


def _turn_ref(t: dict[str, Any]) -> str:
    return f"t{t['turn']}={t['score']:+.2f}"


def _condition(kind: str, spec: Any, history: list[dict[str, Any]], f: dict[str, Any],
               lists: dict[str, frozenset[str]]) -> tuple[bool, str, list[dict[str, Any]]]:
    """(holds, detail for the reason, evidence turns) of one condition."""
    last = history[-1:] if history and history[-1]["turn"] == f["turn"] else []
    if kind == "consecutive_below":
        window = history[-spec["turns"]:]
        ok = len(window) == spec["turns"] and all(t["score"] < spec["score"] for t in window)
        turns = ", ".join(map(_turn_ref, window))
        return ok, f"customer score below {spec['score']} for {spec['turns']} turns ({turns})", window
    if kind == "emotion_above":
        emotions = (f.get(f"emotions.{e}") or 0.0 for e in spec["emotions"])
        best, name = max(zip(emotions, spec["emotions"], strict=True))
        return bool(last) and best >= spec["probability"], f"{name} {best:.2f} >= {spec['probability']}", last
    if kind == "score_drop":
        window = history[-spec["within_turns"]:]
        if not last or len(window) < 2:
            return False, "", []
        peak = max(window[:-1], key=lambda t: t["score"])
        drop = peak["score"] - last[0]["score"]
        return drop >= spec["by"], f"score fell {drop:.2f} from turn {peak['turn']} to turn {f['turn']}", [peak, *last]
    details = []
    for path, ops in spec.items():
        for op, arg in ops.items():
            if not _compare(op, arg, f.get(path), lists):
                return False, "", []
            details.append(f"{path} {op} {arg if op != 'in_list' else 'list ' + arg} ({f.get(path)})")
    return True, ", ".join(details), []


def _match(rule: Rule, state: ContactState, f: dict[str, Any], lists: dict[str, frozenset[str]]) -> Firing | None:
    details, evidence = [], {}
    for kind, spec in rule.when.items():
        ok, detail, turns = _condition(kind, spec, state.history, f, lists)
        if not ok:
            return None
        details.append(detail)
        evidence.update({t["turn"]: t for t in turns})
    if not evidence and state.history and state.history[-1]["turn"] == f["turn"]:
        evidence[f["turn"]] = state.history[-1]
    return Firing(rule, tuple(details), tuple(evidence[k] for k in sorted(evidence)))


def evaluate(rules: RuleSet, state: ContactState, update: dict[str, Any],
             churn: dict[str, Any] | None) -> Decisions:
    """Folds one ContactSentimentUpdate into `state` (in place) and decides: at most one escalation (the best
    priority, then file order) and one alert (the highest severity) per update, within the cooldowns."""
    if update["turn"] <= state.last_turn:  # a duplicate or a replay of a turn already decided
        return Decisions()
    state.last_turn = update["turn"]
    customer = update.get("speaker") == "customer"
    if customer:
        state.history.append({"turn": update["turn"], "utterance_id": update["utterance_id"],
                              "score": float(update["last_score"]),
                              "emotions": dict(update.get("last_emotions") or {})})
        del state.history[:-HISTORY_TURNS]
    f, now = facts(update, churn), int(update["event_time"])
    matched = [m for r in rules.rules if (customer or r.speaker == "any") and (m := _match(r, state, f, rules.lists))]
    ready = [m for m in matched if _ready(m.rule, state, now)]
    escalations = [m for m in ready if m.rule.escalate
                   and not _cooling(state.last_escalation_ms, now, rules.contact_escalation_cooldown_s)]
    alerts = [m for m in ready if m.rule.alert
              and not _cooling(state.last_alert_ms, now, rules.contact_alert_cooldown_s)]
    escalation = min(escalations, key=lambda m: m.rule.escalate.priority, default=None)  # type: ignore[union-attr]
    alert = max(alerts, key=lambda m: SEVERITIES.index(m.rule.alert.severity), default=None)  # type: ignore[union-attr]
    for chosen in {id(m): m for m in (escalation, alert) if m}.values():
        last_count = state.fired.get(chosen.rule.name, [now, 0])[1]
        state.fired[chosen.rule.name] = [now, last_count + 1]
    state.last_escalation_ms = now if escalation else state.last_escalation_ms
    state.last_alert_ms = now if alert else state.last_alert_ms
    suppressed = tuple(m.rule.name for m in matched if m is not escalation and m is not alert)
    return Decisions(escalation, alert, tuple(matched), suppressed)


def _cooling(last_ms: int | None, now: int, cooldown_s: float) -> bool:
    return last_ms is not None and now - last_ms < cooldown_s * 1000


def _ready(rule: Rule, state: ContactState, now: int) -> bool:
    last_ms, count = state.fired.get(rule.name, [None, 0])
    under_limit = rule.max_per_contact is None or count < rule.max_per_contact
    return under_limit and not _cooling(last_ms, now, rule.cooldown_s)
