"""The rules file (YAML): loading and validation, with errors that name the file, the rule, the field and what is
wrong. Pure data: no Kafka, no faust. Evaluation against a contact's state lives in engine.py; the format is
documented in the service README and in the shipped rules.yaml."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HISTORY_TURNS = 20  # customer turns kept per contact; the widest window a rule may look at
SPEAKER_FIELDS = ("turns", "rolling_score", "mean_score", "trend", "overall_score", "overall_score5",
                  "negative_turns", "consecutive_negative", "peak_anger", "peak_frustration")
FIELDS = frozenset({"turn", "speaker", "last_score", "last_label", "account_id", "customer_id", "agent_id", "queue",
                    "channel", "journey_stage", "churn.probability", "churn.band",
                    *(f"{who}.{f}" for who in ("customer", "agent") for f in SPEAKER_FIELDS)})
NUMERIC_OPS = ("lt", "lte", "gt", "gte")
OPS = (*NUMERIC_OPS, "eq", "ne", "in", "not_in", "matches", "in_list")
SEVERITIES = ("info", "warning", "critical")
CONDITIONS = ("consecutive_below", "emotion_above", "score_drop", "fields")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class RulesError(ValueError):
    """An invalid rules file; the message lists every problem, one per line."""


@dataclass(frozen=True)
class Escalate:
    queue: str
    priority: int


@dataclass(frozen=True)
class Alert:
    severity: str
    team: str  # may hold {field} placeholders, e.g. "{queue}"


@dataclass(frozen=True)
class Rule:
    name: str
    reason: str
    when: dict[str, Any]
    speaker: str = "customer"  # evaluate on customer turns only, or on "any" turn
    cooldown_s: float = 300.0
    max_per_contact: int | None = None
    escalate: Escalate | None = None
    alert: Alert | None = None


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    lists: dict[str, frozenset[str]] = field(default_factory=dict)
    contact_escalation_cooldown_s: float = 600.0
    contact_alert_cooldown_s: float = 120.0
    source: str = "<memory>"


class _Check:
    """Collects problems as `file: rule 'name': field 'x': what is wrong`."""

    def __init__(self, source: str) -> None:
        self.source, self.problems = source, []

    def fail(self, where: str, what: str) -> None:
        self.problems.append(f"{self.source}: {where}: {what}")

    def number(self, where: str, value: Any, lo: float, hi: float, integer: bool = False) -> Any:
        kind = int if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind) or not lo <= value <= hi:
            self.fail(where, f"must be {'an integer' if integer else 'a number'} in [{lo}, {hi}], got {value!r}")
        return value

    def mapping(self, where: str, value: Any, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            self.fail(where, f"must be a mapping, got {type(value).__name__}")
            return {}
        for key in value:
            if key not in allowed:
                self.fail(f"{where}.{key}", f"unknown field (allowed: {', '.join(allowed)})")
        for key in required:
            if key not in value:
                self.fail(f"{where}.{key}", "is required")
        return value


def _check_fields(c: _Check, where: str, spec: Any, lists: dict[str, frozenset[str]]) -> None:
    for path, ops in c.mapping(where, spec, tuple(spec) if isinstance(spec, dict) else ()).items():
        at = f"{where}.{path}"
        if path not in FIELDS and not re.fullmatch(r"emotions\.[a-z_]+", str(path)):
            c.fail(at, "unknown field (see the README for the list; emotions.<name> for an emotion)")
        for op, arg in c.mapping(at, ops, OPS).items():
            if op in NUMERIC_OPS:
                c.number(f"{at}.{op}", arg, -1e12, 1e12)
            elif op in ("in", "not_in") and not isinstance(arg, list):
                c.fail(f"{at}.{op}", f"must be a list, got {arg!r}")
            elif op == "in_list" and arg not in lists:
                c.fail(f"{at}.{op}", f"names no list under 'lists' ({', '.join(lists) or 'none defined'})")
            elif op == "matches":
                try:
                    re.compile(str(arg))
                except re.error as exc:
                    c.fail(f"{at}.{op}", f"invalid regular expression: {exc}")


def _check_when(c: _Check, where: str, when: Any, lists: dict[str, frozenset[str]]) -> None:
    when = c.mapping(where, when, CONDITIONS)
    if isinstance(when, dict) and not when:
        c.fail(where, "needs at least one condition")
    if "consecutive_below" in when:
        keys = ("score", "turns")
        spec = c.mapping(f"{where}.consecutive_below", when["consecutive_below"], keys, keys)
        c.number(f"{where}.consecutive_below.score", spec.get("score", 0), -1, 1)
        c.number(f"{where}.consecutive_below.turns", spec.get("turns", 1), 1, HISTORY_TURNS, integer=True)
    if "emotion_above" in when:
        at = f"{where}.emotion_above"
        spec = c.mapping(at, when["emotion_above"], ("emotions", "probability"), ("emotions", "probability"))
        names = spec.get("emotions", ["x"])
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            c.fail(f"{at}.emotions", f"must be a non-empty list of emotion names, got {names!r}")
        c.number(f"{at}.probability", spec.get("probability", 0.5), 0, 1)
    if "score_drop" in when:
        at = f"{where}.score_drop"
        spec = c.mapping(at, when["score_drop"], ("by", "within_turns"), ("by", "within_turns"))
        c.number(f"{at}.by", spec.get("by", 1), 0.01, 2)
        c.number(f"{at}.within_turns", spec.get("within_turns", 2), 2, HISTORY_TURNS, integer=True)
    if "fields" in when:
        _check_fields(c, f"{where}.fields", when["fields"], lists)


def _rule(c: _Check, i: int, raw: Any, defaults: dict, lists: dict[str, frozenset[str]]) -> Rule | None:
    name = raw.get("name") if isinstance(raw, dict) else None
    where = f"rule '{name}'" if isinstance(name, str) else f"rules[{i}]"
    raw = c.mapping(where, raw, ("name", "description", "reason", "enabled", "speaker", "when", "cooldown_s",
                                 "max_per_contact", "escalate", "alert"), ("name", "when"))
    if not isinstance(name, str) or not NAME.match(name):
        c.fail(f"{where}: field 'name'", f"must match {NAME.pattern}, got {name!r}")
    speaker = raw.get("speaker", defaults.get("speaker", "customer"))
    if speaker not in ("customer", "any"):
        c.fail(f"{where}: field 'speaker'", f"must be 'customer' or 'any', got {speaker!r}")
    cooldown = raw.get("cooldown_s", defaults.get("cooldown_s", 300))
    c.number(f"{where}: field 'cooldown_s'", cooldown, 0, 86400)
    max_per = raw.get("max_per_contact")
    if max_per is not None:
        c.number(f"{where}: field 'max_per_contact'", max_per, 1, 1000, integer=True)
    _check_when(c, f"{where}: field 'when'", raw.get("when", {}), lists)
    escalate = alert = None
    if "escalate" in raw:
        spec = c.mapping(f"{where}: field 'escalate'", raw["escalate"], ("queue", "priority"), ("queue", "priority"))
        if not isinstance(spec.get("queue", ""), str) or not spec.get("queue", "x"):
            c.fail(f"{where}: field 'escalate.queue'", "must be a non-empty queue or skill name")
        c.number(f"{where}: field 'escalate.priority'", spec.get("priority", 1), 1, 5, integer=True)
        escalate = Escalate(str(spec.get("queue", "")), spec.get("priority", 1))
    if "alert" in raw:
        spec = c.mapping(f"{where}: field 'alert'", raw["alert"], ("severity", "team"), ("severity",))
        if spec.get("severity") not in SEVERITIES:
            c.fail(f"{where}: field 'alert.severity'",
                   f"must be one of {', '.join(SEVERITIES)}, got {spec.get('severity')!r}")
        team = str(spec.get("team", "default"))
        for _, placeholder, _, _ in string.Formatter().parse(team) if "{" in team else ():
            if placeholder is not None and placeholder not in FIELDS:
                c.fail(f"{where}: field 'alert.team'", f"placeholder {{{placeholder}}} is not a known field")
        alert = Alert(str(spec.get("severity")), team)
    if escalate is None and alert is None:
        c.fail(where, "needs 'escalate', 'alert' or both")
    if not raw.get("enabled", True):
        return None
    reason = str(raw.get("reason") or raw.get("description") or name)
    return Rule(str(name), reason, dict(raw.get("when") or {}), speaker, float(cooldown or 0), max_per, escalate, alert)


def parse_rules(document: Any, source: str = "<memory>") -> RuleSet:
    c = _Check(source)
    doc = c.mapping("top level", document, ("version", "defaults", "contact_cooldown", "lists", "rules"), ("rules",))
    if doc.get("version", 1) != 1:
        c.fail("field 'version'", f"only version 1 is known, got {doc.get('version')!r}")
    defaults = c.mapping("field 'defaults'", doc.get("defaults", {}), ("cooldown_s", "speaker"))
    contact = c.mapping("field 'contact_cooldown'", doc.get("contact_cooldown", {}), ("escalation_s", "alert_s"))
    for key in contact:
        c.number(f"field 'contact_cooldown.{key}'", contact[key], 0, 86400)
    lists: dict[str, frozenset[str]] = {}
    for key, items in c.mapping("field 'lists'", doc.get("lists", {}), tuple(doc.get("lists") or {})).items():
        if not isinstance(items, list):
            c.fail(f"field 'lists.{key}'", "must be a list of strings")
        lists[str(key)] = frozenset(str(x) for x in items or ())
    raw_rules = doc.get("rules", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        c.fail("field 'rules'", "must be a non-empty list of rules")
        raw_rules = []
    rules = [_rule(c, i, raw, defaults, lists) for i, raw in enumerate(raw_rules)]
    names = [r.get("name") for r in raw_rules if isinstance(r, dict)]
    for dup in sorted({n for n in names if names.count(n) > 1}, key=str):
        c.fail(f"rule '{dup}'", "name is used by more than one rule")
    if c.problems:
        raise RulesError("invalid rules file:\n  " + "\n  ".join(c.problems))
    return RuleSet(tuple(r for r in rules if r is not None), lists, float(contact.get("escalation_s", 600)),
                   float(contact.get("alert_s", 120)), source)


def load_rules(path: Path) -> RuleSet:
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise RulesError(f"{path}: cannot read the rules file: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML: {exc}") from exc
    return parse_rules(document, str(path))


class RulesFile:
    """The rules file and its last good version: `maybe_reload()` re-reads it when its mtime changed (or when
    forced, on SIGHUP). A bad edit keeps the previous rules and raises, so the caller can log it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.mtime = path.stat().st_mtime_ns if path.exists() else 0
        self.rules = load_rules(path)

    def maybe_reload(self, force: bool = False) -> bool:
        mtime = self.path.stat().st_mtime_ns if self.path.exists() else 0
        if not force and mtime == self.mtime:
            return False
        self.mtime = mtime
        self.rules = load_rules(self.path)
        return True
