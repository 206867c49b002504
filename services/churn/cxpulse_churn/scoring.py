"""Account history -> ChurnRisk records, in batches (one score_many call per batch). No faust here.

The table value of an account is a small JSON-able dict, `AccountState`:
  history    the bounded contact history (cxpulse_churn.history entries, pending escalation stubs included)
  scored_at  as_of_time of the last score produced for the account (drives the decay sweep)
  last_contact_time  ended_time of the latest contact (so the sweep need not walk the history)
  partition  partition of the account topic it lives on (the decay sweep writes the changelog there)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cxpulse_core.ids import derived_id

from .features import DAY_MS, features
from .history import visible
from .model import ChurnModel

AccountState = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Job:
    """One account to score: its history as of `as_of` (epoch ms), and why."""

    account_id: str
    history: list[dict[str, Any]]
    as_of: int
    trigger: str  # "contact" (a summary or an escalation arrived) or "decay" (time passed)
    origin_time: int


def new_state(partition: int) -> AccountState:
    return {"history": [], "scored_at": None, "last_contact_time": None, "partition": partition}


def last_contact(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The latest completed contact (pending escalation stubs are not contacts)."""
    done = [e for e in history if not e.get("pending")]
    return max(done, key=lambda e: (int(e["ended_time"]), str(e["contact_id"]))) if done else None


def contact_job(account_id: str, history: list[dict[str, Any]], origin_time: int) -> Job | None:
    """A contact-triggered score refers to the account's latest contact, not to the one that just arrived: a
    summary arriving late (or replayed) then yields the account's current risk, never an older one."""
    last = last_contact(history)
    if last is None:
        return None
    return Job(account_id, history, int(last["ended_time"]), "contact", origin_time)


def decay_due(state: AccountState, now_ms: int, after_ms: int, horizon_ms: int) -> bool:
    """Last score older than `after_ms`, and taken before the features saturated (`horizon_ms` without contact:
    every window is empty and the days-since features are capped, so a rescore would change nothing)."""
    last, scored_at = state.get("last_contact_time"), state.get("scored_at")
    if last is None or scored_at is None:
        return False
    return now_ms - scored_at >= after_ms and scored_at - last < horizon_ms


def event_id(account_id: str, trigger: str, as_of: int, seen: Sequence[dict[str, Any]]) -> str:
    """Deterministic: the same account state scored for the same reason and time gets the same id, so a replay
    is a duplicate consumers drop. The contacts seen (and their escalation flags) are part of it, so a late
    contact or escalation that changes the score without changing the latest contact gets a new id."""
    marks = [f"{e['contact_id']}{'!' if e.get('escalated') else ''}" for e in seen]
    return derived_id("churn-risk", account_id, trigger, as_of, *marks)


def score_jobs(model: ChurnModel, jobs: Sequence[Job], now_ms: int, n_reasons: int = 3) -> list[dict[str, Any]]:
    """ChurnRisk values, in job order."""
    if not jobs:
        return []
    scores = model.score_many([features(j.history, j.as_of) for j in jobs], n_reasons)
    out = []
    for job, score in zip(jobs, scores, strict=True):
        seen = visible(job.history, job.as_of)
        out.append({
            "event_id": event_id(job.account_id, job.trigger, job.as_of, seen),
            "account_id": job.account_id,
            "probability": score.probability,
            "band": score.band,
            "reasons": [{"feature": r.feature, "value": r.value, "contribution": r.contribution, "text": r.text}
                        for r in score.reasons],
            "contacts_seen": len(seen),
            "trigger": job.trigger,
            "last_contact_id": seen[-1]["contact_id"] if seen else None,
            "model_version": model.version,
            "as_of_time": job.as_of,
            "origin_time": job.origin_time,
            "produced_time": now_ms,
        })
    return out


def horizon_ms(days: float) -> int:
    return int(days * DAY_MS)
