"""The routing agents and timers, on the app, topics and tables of app.py; every agent goes through core's
AgentRuntime (dead letters with the reason, the dead-letter ratio limit, produced_time, metrics, health).

- `decide` reads cx.sentiment.contacts (keyed by contact): folds each ContactSentimentUpdate into the contact's
  state (table `contacts`, changelogged, co-partitioned with the input), joins the account's latest churn risk
  (GlobalTable `churn-risk`) and produces escalations and supervisor alerts (engine.py, rules.py). A ContactSummary
  (the contact ended) drops the contact's state.
- `remember` reads cx.churn.risk (keyed by account, compacted) into the churn-risk GlobalTable.
- `assist` reads cx.sentiment.utterances (it carries the turn's embedding, computed once by the sentiment service)
  and produces agent guidance for customer turns (guidance.py); a turn without a usable embedding (none, or one of
  another encoder than the phrase matrix) gets no guidance, counted by reason and logged once per reason and
  encoder.
- timers: the rules file is re-read when it changes (and on SIGHUP); idle contacts expire (expiry.py)."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

import faust
from faust.types import Message

from cxpulse_core.dlq import Reject
from cxpulse_core.records import (
    AgentGuidance,
    ChurnRisk,
    ContactSentimentUpdate,
    ContactSummary,
    Escalation,
    SupervisorAlert,
    UtteranceSentiment,
)
from cxpulse_core.serde import Decoded

from . import metrics as m
from . import outputs
from .app import (
    alerts_out,
    app,
    churn,
    churn_in,
    contacts,
    contacts_in,
    escalations_out,
    expiry,
    guidance_out,
    guide,
    guided,
    guided_expiry,
    rules,
    runtime,
    settings,
    utterances_in,
)
from .engine import ContactState, evaluate, facts
from .guidance import EmbeddingError, Unusable
from .rules import RulesError

log = logging.getLogger("cxpulse_routing")
S = m.SERVICE
_skips_logged: set[tuple[str, str]] = set()


@app.agent(contacts_in, name="decide", concurrency=1)
@runtime.each_record()
async def decide(key: str | None, value: Decoded, message: Message) -> Reject | None:
    contact_id = _key(key, value)
    match value.typed:
        case ContactSentimentUpdate():
            return await _decide(contact_id, value.value, message.partition)
        case ContactSummary():  # the contact ended
            _forget(contact_id)
            return None
        case other:
            return Reject("unexpected_schema", f"{other.SCHEMA} is not read from the contacts topic")


async def _decide(contact_id: str, update: dict[str, Any], partition: int) -> None:
    risk = churn.get(update["account_id"]) if update.get("account_id") else None
    state = ContactState.from_dict(contacts.get(contact_id))
    if update["turn"] <= state.last_turn:
        return  # a replay (after a restart) of a turn whose decisions were produced already
    decisions = evaluate(rules.rules, state, update, risk)
    for name in decisions.suppressed:
        m.DECISIONS.labels(S, name, "suppressed").inc()
    if decisions.escalation:
        record = outputs.escalation(decisions.escalation, update, risk)
        await _emit(escalations_out, Escalation.SCHEMA, record, "escalation")
        m.DECISIONS.labels(S, decisions.escalation.rule.name, "escalation").inc()
        m.ESCALATIONS.labels(S, record["target_queue"]).inc()
    if decisions.alert:
        record = outputs.alert(decisions.alert, update, risk, facts(update, risk))
        await _emit(alerts_out, SupervisorAlert.SCHEMA, record, "alert")
        m.DECISIONS.labels(S, decisions.alert.rule.name, "alert").inc()
        m.ALERTS.labels(S, record["severity"], record["team"]).inc()
    # The state (its turn) is written only once the outputs are acknowledged: a restart that replays this
    # update either finds the turn done (outputs surely out) or decides it again (same event ids).
    contacts[contact_id] = state.to_dict()
    expiry.touch(contact_id, partition)


def _forget(contact_id: str) -> None:
    if contact_id in contacts:
        del contacts[contact_id]
    expiry.forget(contact_id)
    # The guided turns go with it where both topics have as many partitions (a contact is then on the same
    # partition number in both); else they expire.
    if guided.partitions == contacts.partitions and contact_id in guided:
        del guided[contact_id]
        guided_expiry.forget(contact_id)


@app.agent(churn_in, name="remember", concurrency=1)
@runtime.each_record(tombstones=True)  # the topic is compacted: a tombstone means the account is gone
async def remember(key: str | None, value: Decoded | None, message: Message) -> Reject | None:
    account_id = _key(key, value)
    if value is None:
        churn.pop(account_id, None)
        return None
    if not isinstance(value.typed, ChurnRisk):
        return Reject("unexpected_schema", f"{value.schema} is not read from the churn topic")
    risk, known = value.value, churn.get(account_id)
    if known is None or risk["as_of_time"] >= known["as_of_time"]:
        churn[risk["account_id"]] = {k: risk[k] for k in ("probability", "band", "as_of_time")}
    return None


@app.agent(utterances_in, name="assist", concurrency=1)
@runtime.each_record()
async def assist(key: str | None, value: Decoded, message: Message) -> Reject | None:
    contact_id = _key(key, value)
    if not isinstance(value.typed, UtteranceSentiment):
        return Reject("unexpected_schema", f"{value.schema} is not read from the utterances topic")
    utterance = value.value
    emotion = guide.needs_guidance(utterance)
    if emotion is None or utterance["turn"] <= guided.get(contact_id, 0):
        return None  # calm, or a replay (after a restart) of a turn already guided
    try:
        vector = guide.vector(utterance)
    except Unusable as skip:
        m.GUIDANCE_SKIPPED.labels(S, skip.reason).inc()
        seen = (skip.reason, str((utterance.get("embedding") or {}).get("encoder")))
        if seen not in _skips_logged:  # once per reason and encoder: at 300 turns/s a log line each floods
            _skips_logged.add(seen)
            log.warning("no guidance: %s", skip, extra={"reason": skip.reason, "contact_id": contact_id})
        return None
    except EmbeddingError as exc:
        return Reject("invalid_embedding", str(exc))
    record = outputs.guidance(guide.advise(emotion, vector), utterance)
    await _emit(guidance_out, AgentGuidance.SCHEMA, record, "guidance")
    guided[contact_id] = utterance["turn"]  # after the acknowledgement, as in decide
    guided_expiry.touch(contact_id, message.partition)
    m.GUIDANCE.labels(S, emotion).inc()
    return None


async def _emit(topic: faust.TopicT, schema: str, record: dict, output: str) -> None:
    """Produces `record` and waits for the broker's acknowledgement (the caller records progress after it)."""
    await runtime.send(topic, record["contact_id"], schema, record)
    m.DECISION_LATENCY.labels(S, output).observe(max(0, record["produced_time"] - record["origin_time"]) / 1000)


def _key(key: str | None, value: Decoded | None) -> str:
    if key is not None:
        return key
    record = value.value if value else {}
    return str(record.get("contact_id") or record.get("account_id"))


@app.timer(settings.contact_ttl_check_s, name="contact-expiry")
async def expire_contacts() -> None:
    expiry.expire()
    guided_expiry.expire()


@app.timer(settings.rules_check_interval_s, name="rules-watch")
async def watch_rules() -> None:
    await check_rules()


@app.task
async def reload_rules_on_sighup() -> None:
    """App tasks start once the tables are recovered."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(check_rules(force=True)))


async def check_rules(force: bool = False) -> None:
    try:
        if rules.maybe_reload(force):
            m.RULE_RELOADS.labels(S, "ok").inc()
            log.info("rules reloaded", extra={"rules": [r.name for r in rules.rules.rules]})
    except RulesError as exc:
        m.RULE_RELOADS.labels(S, "invalid").inc()
        log.error("rules file changed but is invalid; keeping the previous rules\n%s", exc)
