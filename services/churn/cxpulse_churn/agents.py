"""The churn-scoring agents and the decay timer, on the app, topics and table of app.py; every agent goes through
core's AgentRuntime (dead letters with the reason, the dead-letter ratio limit, produced_time, metrics, health).

- `route_contacts` / `route_escalations` check each ContactSummary / Escalation and forward what the scorer needs,
  re-keyed by account, to the internal account topic (history.py builds the entry).
- `score_accounts` folds each account event into the account's history (table `accounts`) and produces one
  ChurnRisk for it (scoring.py, model.py).
- `decay_sweep` rescores, every decay_interval_s, the accounts of this worker's partitions whose score is stale.
- `pending_sweep` drops, every contact_ttl_check_s, escalation stubs of contacts that never ended (expiry.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from faust.types import Message

from cxpulse_core.dlq import Reject
from cxpulse_core.ids import now_ms
from cxpulse_core.records import ChurnRisk, ContactSentimentUpdate, ContactSummary, Escalation
from cxpulse_core.serde import Decoded

from . import metrics as m
from .app import (
    accounts,
    accounts_topic,
    app,
    contacts_in,
    escalations_in,
    model,
    risk_out,
    runtime,
    settings,
)
from .expiry import PendingExpiry
from .history import add_entry, drop_stale_pending, entry_from_summary, mark_escalated
from .scoring import AccountState, Job, contact_job, decay_due, horizon_ms, new_state, score_jobs

log = logging.getLogger(__name__)
SERVICE = m.SERVICE
HORIZON_MS, AFTER_MS = horizon_ms(settings.decay_horizon_days), int(settings.decay_after_s * 1000)
pending = PendingExpiry(settings.contact_ttl_s)


@app.agent(contacts_in, concurrency=1, name="route-contacts")
@runtime.each_record()
async def route_contacts(key: str | None, value: Decoded, message: Message) -> Reject | None:
    match value.typed:
        case ContactSummary():
            return await _route(value.value, "contact")
        case ContactSentimentUpdate():
            m.SKIPPED.labels(SERVICE, "contact_update").inc()
            return None
        case other:
            return Reject("unexpected_schema", f"{other.SCHEMA} on {message.topic}")


@app.agent(escalations_in, concurrency=1, name="route-escalations")
@runtime.each_record()
async def route_escalations(key: str | None, value: Decoded, message: Message) -> Reject | None:
    if not isinstance(value.typed, Escalation):
        return Reject("unexpected_schema", f"{value.schema} on {message.topic}")
    return await _route(value.value, "escalation")


async def _route(v: dict[str, Any], kind: str) -> Reject | None:
    """Forwards what the scorer needs of a summary or an escalation to the account topic."""
    if not v.get("account_id"):
        m.SKIPPED.labels(SERVICE, "no_account").inc()
        return None
    try:
        if kind == "contact":
            body: dict[str, Any] = {"kind": "contact", "entry": entry_from_summary(v)}
        else:
            body = {"kind": "escalation", "contact_id": str(v["contact_id"]), "at_ms": int(v["event_time"])}
    except (KeyError, TypeError, ValueError) as exc:
        return Reject("invalid_record", str(exc))
    body["origin_time"] = int(v.get("origin_time") or now_ms())
    await accounts_topic.send(key=str(v["account_id"]), value=body)
    return None


@app.agent(accounts_topic, concurrency=1, name="score-accounts")
@runtime.each_record()
async def score_accounts(account: str | None, body: dict[str, Any], message: Message) -> Reject | None:
    t0 = time.perf_counter()
    state: AccountState = accounts.get(account) or new_state(message.partition)
    history, rescore = state["history"], True
    if body.get("kind") == "contact":
        if any(e["contact_id"] == body["entry"]["contact_id"] and not e.get("pending") for e in history):
            return None  # a replay (after a restart) of a contact scored already: its score is out
        history = add_entry(history, body["entry"], settings.max_entries)
    elif body.get("kind") == "escalation":
        if any(e["contact_id"] == body["contact_id"] and e.get("escalated") for e in history):
            return None  # a replay of an escalation already recorded
        known = any(e["contact_id"] == body["contact_id"] and not e.get("pending") for e in history)
        history, rescore = mark_escalated(history, body["contact_id"], body["at_ms"]), known
    else:
        return Reject("invalid_record", f"unknown kind {body.get('kind')!r}")
    history = drop_stale_pending(history, pending.cutoff(now_ms()))
    job = contact_job(str(account), history, body["origin_time"]) if rescore else None
    state = {**state, "history": history, "partition": message.partition}
    if job is not None:
        state["scored_at"] = state["last_contact_time"] = job.as_of
    # The score first, acknowledged, then the state: a restart that replays this event finds it in the
    # history only if its score is out (and skips it), else scores it again (the same event id).
    await _publish([job] if job else [])
    accounts[account] = state  # changelog write on this event's partition
    pending.note(str(account), history)
    m.EVENT_LATENCY.labels(SERVICE).observe(time.perf_counter() - t0)
    return None


async def _publish(jobs: list[Job]) -> list[dict[str, Any]]:
    if not jobs:
        return []
    t0 = time.perf_counter()
    records = score_jobs(model, jobs, now_ms(), settings.n_reasons)
    m.SCORING_LATENCY.labels(SERVICE, jobs[0].trigger).observe(time.perf_counter() - t0)
    for r in records:
        await runtime.send(risk_out, r["account_id"], ChurnRisk.SCHEMA, r)  # until acknowledged
        m.SCORES.labels(SERVICE, r["trigger"], r["band"]).inc()
    return records


def _active_partitions() -> frozenset[int]:
    return frozenset(tp.partition for tp in app.assignor.assigned_actives()
                     if tp.topic == accounts_topic.get_topic_name())


@app.timer(settings.decay_interval_s, name="decay-sweep")
async def decay_sweep() -> None:
    if not runtime.health.ready:
        return  # tables still recovering: the sweep would see a partial history
    t0, now = time.perf_counter(), now_ms()
    active = _active_partitions()
    due = [k for k, s in accounts.data.items() if s and s.get("partition") in active
           and decay_due(s, now, AFTER_MS, HORIZON_MS)]
    for i in range(0, len(due), settings.decay_batch):
        jobs, states = [], {}
        for account in due[i:i + settings.decay_batch]:
            s = accounts.data.get(account)
            if s and decay_due(s, now, AFTER_MS, HORIZON_MS):  # re-check: the agent may have scored it since
                jobs.append(Job(account, s["history"], now, "decay", now))
                states[account] = {**s, "scored_at": now}
        for account, s in states.items():  # no await between reading and writing the states
            accounts.data[account] = s
            accounts.send_changelog(s["partition"], account, s)
        await _publish(jobs)
        await asyncio.sleep(0)  # let the agents run between batches
    if due:
        log.info("decay sweep", extra={"accounts": len(due), "ms": round((time.perf_counter() - t0) * 1000)})
    m.DECAY_SWEEP.labels(SERVICE).observe(time.perf_counter() - t0)


@app.timer(settings.contact_ttl_check_s, name="pending-sweep")
async def pending_sweep() -> None:
    """Drops the escalation stubs past the TTL, rewriting each such account's row (no await in between, as in
    the decay sweep); no score changes, since features skip stubs."""
    if not runtime.health.ready:
        return
    now, dropped = now_ms(), 0
    for account in pending.due(accounts.data, _active_partitions(), now):
        state = accounts.data.get(account)
        history = drop_stale_pending(state["history"], pending.cutoff(now)) if state else []
        if state:
            dropped += len(state["history"]) - len(history)
            state = {**state, "history": history}
            accounts.data[account] = state
            accounts.send_changelog(state["partition"], account, state)
        pending.note(account, history)
    pending.release(dropped)
