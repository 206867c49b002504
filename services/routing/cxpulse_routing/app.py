"""faust wiring: the app, its topics and tables, and three agents.

- `decide` reads cx.sentiment.contacts (keyed by contact): folds each ContactSentimentUpdate into the contact's
  state (table `contacts`, changelogged, co-partitioned with the input), joins the account's latest churn risk
  (GlobalTable `churn-risk`, every worker holds all of it) and produces escalations and supervisor alerts.
  A ContactSummary (the contact ended) drops the contact's state.
- `remember` reads cx.churn.risk (keyed by account) into the churn-risk GlobalTable.
- `assist` reads cx.sentiment.utterances (it carries the turn's embedding, computed once by the sentiment service)
  and produces agent guidance for customer turns; a turn without a usable embedding (none, or one of another
  encoder than the phrase matrix) gets no guidance, counted by reason and logged once per reason and encoder.
Undecodable or unexpected records go to the dead-letter topic with the reason in headers."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

import faust

from cxpulse_core import metrics
from cxpulse_core.dlq import DeadLetterLimitError, InvalidRatioLimit, Reject, deadletter_headers
from cxpulse_core.faust_broker import broker_urls, credentials
from cxpulse_core.faust_codec import AvroCodec, Undecodable
from cxpulse_core.faust_fetch import commit_past_markers
from cxpulse_core.faust_ops import LagReporter, patch_consumer, recovered
from cxpulse_core.health import Health
from cxpulse_core.ids import now_ms
from cxpulse_core.serde import Decoded
from cxpulse_core.settings import KafkaSettings, RuntimeSettings

from . import metrics as m
from . import records
from .broker import partitions_of
from .engine import ContactState, evaluate, facts
from .expiry import ContactExpiry
from .guidance import EmbeddingError, Guide, Unusable
from .rules import RulesError, RulesFile
from .settings import RoutingSettings

log = logging.getLogger("cxpulse_routing")
UPDATE = "io.cxpulse.sentiment.ContactSentimentUpdate"
SUMMARY = "io.cxpulse.sentiment.ContactSummary"
CHURN = "io.cxpulse.churn.ChurnRisk"
UTTERANCE = "io.cxpulse.sentiment.UtteranceSentiment"
S = m.SERVICE


class Routing:
    """The app and its parts; `build` wires them, `app` is what the worker runs."""

    def __init__(self, settings: RoutingSettings, runtime: RuntimeSettings, kafka: KafkaSettings,
                 rules: RulesFile, guide: Guide, health: Health) -> None:
        self.settings, self.rules, self.guide, self.health = settings, rules, guide, health
        self.limit = InvalidRatioLimit(runtime.dlq_max_invalid_ratio, runtime.dlq_window, runtime.dlq_min_messages,
                                       S, runtime.dlq_stop_on_flood)
        self._skips_logged: set[tuple[str, str]] = set()
        patch_consumer()  # sentiment's aborted transactions stay invisible; no record lost after a restart
        name = runtime.topic
        self.app = faust.App(
            settings.app_id, broker=broker_urls(kafka), broker_credentials=credentials(kafka),
            broker_client_id=kafka.for_client(S, runtime.instance_id).client_id, store="memory://", web_enabled=False,
            datadir=str(settings.data_dir), topic_disable_leader=True, consumer_auto_offset_reset="earliest",
            topic_replication_factor=settings.changelog_replication_factor, producer_acks=-1,
            broker_session_timeout=settings.session_timeout_s,
            broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
            broker_commit_interval=settings.commit_interval_s,
            # Static membership: a restarted replica (same CXPULSE_INSTANCE_ID) takes its predecessor's place and
            # partitions at once, instead of a rebalance now and another when the dead member's session expires.
            consumer_group_instance_id=f"{settings.app_id}-{runtime.instance_id}")
        self.lag = LagReporter(self.app, S)

        def avro(topic: str) -> faust.TopicT:
            return self.app.topic(name(topic), key_serializer="raw", value_serializer=AvroCodec(name(topic)))

        self.contacts_in = avro(settings.contacts_topic)
        self.utterances_in = avro(settings.utterances_topic)
        self.churn_in = avro(settings.churn_topic)
        self.escalations = avro(settings.escalations_topic)
        self.alerts = avro(settings.alerts_topic)
        self.guidance = avro(settings.guidance_topic)
        self.deadletter = self.app.topic(name(settings.deadletter_topic), key_serializer="raw", value_serializer="raw")
        # Internal tables, JSON keys and values; each changelog has its source topic's partition count. No
        # value_type: faust restores a typed value with `value_type.from_data`, which a plain dict does not have,
        # so recovery from a non-empty changelog failed; untyped JSON comes back as the dict that was written.
        self.contacts = self.app.Table("contacts", partitions=partitions_of(kafka, name(settings.contacts_topic)),
                                       key_type=str)
        self.churn = self.app.GlobalTable("churn-risk", partitions=partitions_of(kafka, name(settings.churn_topic)),
                                          key_type=str)
        # The last guided turn per contact, so a replay after a restart does not guide the same turn twice.
        # Co-partitioned with the utterances topic; dropped at contact end (by decide) when the contacts topic has
        # as many partitions, so both agents see a contact on the same partition number.
        utterance_partitions = partitions_of(kafka, name(settings.utterances_topic))
        self.guided = self.app.Table("guided", partitions=utterance_partitions, key_type=str)
        self.guided_copartitioned = utterance_partitions == partitions_of(kafka, name(settings.contacts_topic))
        self.app.agent(self.contacts_in, name="decide", concurrency=1)(self._records(self.decide, "contacts"))
        self.app.agent(self.churn_in, name="remember", concurrency=1)(self._records(self.remember, "churn"))
        self.app.agent(self.utterances_in, name="assist", concurrency=1)(self._records(self.assist, "utterances"))
        self.app.timer(settings.rules_check_interval_s)(self._watch_rules)
        self.app.timer(1.0)(self._beat)
        self.app.timer(5.0)(self._report_lag)
        self.expiry = ContactExpiry(self.contacts, partitions_of(kafka, name(settings.contacts_topic)),
                                    settings.contact_ttl_s)
        self.guided_expiry = ContactExpiry(self.guided, utterance_partitions, settings.contact_ttl_s)
        self.app.timer(settings.contact_ttl_check_s)(self._expire_contacts)
        self.app.task(self._started)  # app tasks start once the tables are recovered

    # -- the per-record loop shared by the agents -------------------------------------------------------------
    def _records(self, handle: Any, role: str) -> Any:
        async def agent(stream: faust.StreamT) -> None:
            async for event in stream.events():
                message, value = event.message, event.value
                started = now_ms()
                reject: Reject | None = None
                if value is None and role != "churn":  # tombstones only mean something on the compacted topic
                    reject = Reject("null_value", "a record without a value")
                elif isinstance(value, Undecodable):
                    reject = Reject("decode_error", value.error, "SerdeError")
                else:
                    m.INPUTS.labels(S, role, value.schema if value else "tombstone").inc()
                    try:
                        reject = await handle(_key(message.key, value), value)
                    except Exception as exc:  # one bad record must not stall the contact stream
                        log.exception("failed to handle a record", extra={"topic": message.topic})
                        reject = Reject("processing_error", f"{type(exc).__name__}: {exc}", type(exc).__name__)
                if reject is not None:
                    await self._dead(reject, message)
                self.limit.record(reject is not None)
                try:  # raises only with CXPULSE_DLQ_STOP_ON_FLOOD; the dead letter above is acknowledged
                    self.limit.check()
                except DeadLetterLimitError as exc:
                    log.critical("stopping: %s", exc)
                    self.health.fatal = str(exc)
                    asyncio.get_running_loop().create_task(self.app.crash(exc))
                    return
                m.STEP_LATENCY.labels(S, role).observe((now_ms() - started) / 1000)
        return agent

    async def _dead(self, reject: Reject, message: Any) -> None:
        m.DEADLETTERS.labels(S, reject.reason).inc()
        headers = deadletter_headers(reject, S, message.topic, message.partition, message.offset,
                                     list(message.headers or []))
        await self.deadletter.send(key=message.key, value=message.value, headers=headers)

    async def _emit(self, topic: faust.TopicT, schema: str, record: dict[str, Any], output: str) -> None:
        """Produces `record` and waits for the broker's acknowledgement (the caller records progress after it)."""
        record["produced_time"] = now_ms()
        await (await topic.send(key=record["contact_id"], value=Decoded(schema, record)))
        m.DECISION_LATENCY.labels(S, output).observe(max(0, record["produced_time"] - record["origin_time"]) / 1000)

    # -- handlers ------------------------------------------------------------------------------------------
    async def decide(self, contact_id: str, value: Decoded) -> Reject | None:
        if value.schema == SUMMARY:
            if contact_id in self.contacts:
                del self.contacts[contact_id]
            self.expiry.forget(contact_id)
            if self.guided_copartitioned and contact_id in self.guided:
                del self.guided[contact_id]
                self.guided_expiry.forget(contact_id)
            return None
        if value.schema != UPDATE:
            return Reject("unexpected_schema", f"{value.schema} is not read from the contacts topic")
        update = value.value
        churn = self.churn.get(update["account_id"]) if update.get("account_id") else None
        state = ContactState.from_dict(self.contacts.get(contact_id))
        if update["turn"] <= state.last_turn:
            return None  # a replay (after a restart) of a turn whose decisions were produced already
        decisions = evaluate(self.rules.rules, state, update, churn)
        for name in decisions.suppressed:
            m.DECISIONS.labels(S, name, "suppressed").inc()
        if decisions.escalation:
            record = records.escalation(decisions.escalation, update, churn)
            await self._emit(self.escalations, records.ESCALATION, record, "escalation")
            m.DECISIONS.labels(S, decisions.escalation.rule.name, "escalation").inc()
            m.ESCALATIONS.labels(S, record["target_queue"]).inc()
        if decisions.alert:
            record = records.alert(decisions.alert, update, churn, facts(update, churn))
            await self._emit(self.alerts, records.ALERT, record, "alert")
            m.DECISIONS.labels(S, decisions.alert.rule.name, "alert").inc()
            m.ALERTS.labels(S, record["severity"], record["team"]).inc()
        # The state (its turn) is written only once the outputs are acknowledged: a restart that replays this
        # update either finds the turn done (outputs surely out) or decides it again (same event ids).
        self.contacts[contact_id] = state.to_dict()
        event = faust.current_event()
        self.expiry.touch(contact_id, event.message.partition if event is not None else None)
        return None

    async def remember(self, account_id: str, value: Decoded | None) -> Reject | None:
        if value is None:  # a tombstone on the compacted topic: the account is gone
            self.churn.pop(account_id, None)
            return None
        if value.schema != CHURN:
            return Reject("unexpected_schema", f"{value.schema} is not read from the churn topic")
        risk, known = value.value, self.churn.get(account_id)
        if known is None or risk["as_of_time"] >= known["as_of_time"]:
            self.churn[risk["account_id"]] = {k: risk[k] for k in ("probability", "band", "as_of_time")}
        return None

    async def assist(self, contact_id: str, value: Decoded) -> Reject | None:
        if value.schema != UTTERANCE:
            return Reject("unexpected_schema", f"{value.schema} is not read from the utterances topic")
        utterance = value.value
        emotion = self.guide.needs_guidance(utterance)
        if emotion is None or utterance["turn"] <= self.guided.get(contact_id, 0):
            return None  # calm, or a replay (after a restart) of a turn already guided
        try:
            vector = self.guide.vector(utterance)
        except Unusable as skip:
            m.GUIDANCE_SKIPPED.labels(S, skip.reason).inc()
            seen = (skip.reason, str((utterance.get("embedding") or {}).get("encoder")))
            if seen not in self._skips_logged:  # once per reason and encoder: at 300 turns/s a log line each floods
                self._skips_logged.add(seen)
                log.warning("no guidance: %s", skip, extra={"reason": skip.reason, "contact_id": contact_id})
            return None
        except EmbeddingError as exc:
            return Reject("invalid_embedding", str(exc))
        record = records.guidance(self.guide.advise(emotion, vector), utterance)
        await self._emit(self.guidance, records.GUIDANCE, record, "guidance")
        self.guided[contact_id] = utterance["turn"]  # after the acknowledgement, as in decide
        event = faust.current_event()
        self.guided_expiry.touch(contact_id, event.message.partition if event is not None else None)
        m.GUIDANCE.labels(S, emotion).inc()
        return None

    # -- operations ------------------------------------------------------------------------------------------
    async def _started(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self._check_rules(force=True)))

    async def _beat(self) -> None:
        """Liveness: the event loop runs timers. Readiness: partitions assigned and every table recovered from
        its changelog (not before: decisions on half-restored state would be wrong), and the broker answering."""
        self.health.beat()
        ready = recovered(self.app)
        if ready and not self.health.ready:
            log.info("ready: tables recovered, agents running")
        self.health.ready = ready
        metrics.READY.labels(S).set(1 if self.health.ready else 0)

    async def _report_lag(self) -> None:
        await commit_past_markers(self.app)  # sentiment's transaction markers: the committed offset reaches the end
        self.lag.report()

    async def _expire_contacts(self) -> None:
        self.expiry.expire()
        self.guided_expiry.expire()

    async def _watch_rules(self) -> None:
        await self._check_rules()

    async def _check_rules(self, force: bool = False) -> None:
        try:
            if self.rules.maybe_reload(force):
                m.RULE_RELOADS.labels(S, "ok").inc()
                log.info("rules reloaded", extra={"rules": [r.name for r in self.rules.rules.rules]})
        except RulesError as exc:
            m.RULE_RELOADS.labels(S, "invalid").inc()
            log.error("rules file changed but is invalid; keeping the previous rules\n%s", exc)


def _key(key: bytes | str | None, value: Decoded | None) -> str:
    if key is not None:
        return key.decode() if isinstance(key, bytes) else str(key)
    record = value.value if value else {}
    return str(record.get("contact_id") or record.get("account_id"))
