"""Wiring of the churn-scoring service (faust): topics, the per-account table, agents, the decay timer.

Flow (see README.md):
  cx.sentiment.contacts (key: contact)  -> route_contacts    \\  re-keyed by account id
  cx.routing.escalations (key: contact) -> route_escalations  >  <app_id>-accounts-repartition (JSON)
  <app_id>-accounts-repartition         -> score_accounts (history table, one score per event) -> cx.churn.risk
  timer every decay_interval_s          -> decay sweep over the worker's active partitions  -> cx.churn.risk
Undecodable or malformed input goes to the dead-letter topic with reason headers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import faust
from faust.types import EventT, Message

from cxpulse_core.dlq import Reject, deadletter_headers
from cxpulse_core.faust_broker import broker_urls, credentials
from cxpulse_core.faust_codec import AvroCodec, Undecodable
from cxpulse_core.faust_fetch import commit_past_markers
from cxpulse_core.faust_ops import LagReporter, patch_consumer, recovered
from cxpulse_core.health import Health
from cxpulse_core.ids import now_ms
from cxpulse_core.serde import Decoded
from cxpulse_core.settings import KafkaSettings, RuntimeSettings

from . import metrics as m
from .history import add_entry, entry_from_summary, mark_escalated
from .model import ChurnModel
from .scoring import RISK_SCHEMA, AccountState, Job, contact_job, decay_due, horizon_ms, new_state, score_jobs
from .settings import ChurnSettings

log = logging.getLogger(__name__)
SERVICE = m.SERVICE
SUMMARY, UPDATE, ESCALATION = ("io.cxpulse.sentiment.ContactSummary", "io.cxpulse.sentiment.ContactSentimentUpdate",
                               "io.cxpulse.routing.Escalation")


def build_app(settings: ChurnSettings, kafka: KafkaSettings, runtime: RuntimeSettings, health: Health,
              model: ChurnModel) -> faust.App:
    patch_consumer()  # sentiment's aborted transactions stay invisible; no record lost after a restart
    app = faust.App(
        settings.app_id, broker=broker_urls(kafka), broker_credentials=credentials(kafka), store=settings.store,
        broker_client_id=kafka.for_client(SERVICE, runtime.instance_id).client_id,
        datadir=str(Path(settings.data_dir) / settings.app_id),
        topic_partitions=settings.partitions, topic_replication_factor=settings.replication_factor,
        key_serializer="raw", web_enabled=False, consumer_auto_offset_reset="earliest", producer_acks=-1,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
        broker_commit_interval=settings.commit_interval_s,
    )
    names = {k: runtime.topic(getattr(settings, f"{k}_topic")) for k in ("contacts", "escalations", "risk",
                                                                        "deadletter")}
    contacts = app.topic(names["contacts"], value_serializer=AvroCodec(names["contacts"]))
    escalations = app.topic(names["escalations"], value_serializer=AvroCodec(names["escalations"]))
    risk = app.topic(names["risk"], key_type=str, value_serializer=AvroCodec(names["risk"]))
    dlq = app.topic(names["deadletter"], value_serializer="raw")
    # Internal (created by faust): the account-keyed stream the table is co-partitioned with.
    accounts = app.topic(f"{settings.app_id}-accounts-repartition", internal=True, partitions=settings.partitions,
                         replicas=settings.replication_factor, key_type=str, value_serializer="json")
    # Keys and values are JSON in the changelog (faust derives the serializers from the types).
    table = app.Table("accounts", default=None, partitions=settings.partitions, key_type=str)
    horizon, after_ms = horizon_ms(settings.decay_horizon_days), int(settings.decay_after_s * 1000)

    async def deadletter(message: Message, data: bytes | None, reason: str, detail: str) -> None:
        headers = deadletter_headers(Reject(reason, detail), SERVICE, message.topic, message.partition,
                                     message.offset, list(message.headers or []))
        await dlq.send(key=message.key, value=data if data is not None else message.value, headers=headers)
        m.DEADLETTERS.labels(SERVICE, reason).inc()
        log.warning("dead-lettered", extra={"reason": reason, "detail": detail, "topic": message.topic,
                                            "partition": message.partition, "offset": message.offset})

    async def route(event: EventT, expected: str) -> None:
        """Checks one input record and forwards what the scorer needs to the account topic."""
        message, value = event.message, event.value
        m.MESSAGES_IN.labels(SERVICE, message.topic).inc()
        if isinstance(value, Undecodable):
            return await deadletter(message, value.data, "decode_error", value.error)
        if not isinstance(value, Decoded):
            return await deadletter(message, None, "decode_error", f"unexpected value {type(value).__name__}")
        if value.schema == UPDATE:
            return m.SKIPPED.labels(SERVICE, "contact_update").inc()
        if value.schema != expected:
            return await deadletter(message, None, "unexpected_schema", f"{value.schema} on {message.topic}")
        v = value.value
        if not v.get("account_id"):
            return m.SKIPPED.labels(SERVICE, "no_account").inc()
        try:
            if expected == SUMMARY:
                body: dict[str, Any] = {"kind": "contact", "entry": entry_from_summary(v)}
            else:
                body = {"kind": "escalation", "contact_id": str(v["contact_id"]), "at_ms": int(v["event_time"])}
        except (KeyError, TypeError, ValueError) as exc:
            return await deadletter(message, None, "invalid_record", str(exc))
        body["origin_time"] = int(v.get("origin_time") or now_ms())
        await accounts.send(key=str(v["account_id"]), value=body)

    @app.agent(contacts, concurrency=1, name="route-contacts")
    async def route_contacts(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await route(event, SUMMARY)

    @app.agent(escalations, concurrency=1, name="route-escalations")
    async def route_escalations(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await route(event, ESCALATION)

    async def publish(jobs: list[Job]) -> list[dict[str, Any]]:
        if not jobs:
            return []
        t0 = time.perf_counter()
        records = score_jobs(model, jobs, now_ms(), settings.n_reasons)
        m.SCORING_LATENCY.labels(SERVICE, jobs[0].trigger).observe(time.perf_counter() - t0)
        for r in records:
            await (await risk.send(key=r["account_id"], value=Decoded(RISK_SCHEMA, r)))  # until acknowledged
            m.SCORES.labels(SERVICE, r["trigger"], r["band"]).inc()
            m.MESSAGES_OUT.labels(SERVICE, names["risk"]).inc()
            m.PIPELINE_LATENCY.labels(SERVICE, names["risk"]).observe((r["produced_time"] - r["origin_time"]) / 1000)
        return records

    @app.agent(accounts, concurrency=1, name="score-accounts")
    async def score_accounts(stream: faust.StreamT) -> None:
        async for event in stream.events():
            t0 = time.perf_counter()
            account, body = event.key, event.value
            state: AccountState = table.get(account) or new_state(event.message.partition)
            history, rescore = state["history"], True
            if body.get("kind") == "contact":
                if any(e["contact_id"] == body["entry"]["contact_id"] and not e.get("pending") for e in history):
                    continue  # a replay (after a restart) of a contact scored already: its score is out
                history = add_entry(history, body["entry"], settings.max_entries)
            elif body.get("kind") == "escalation":
                if any(e["contact_id"] == body["contact_id"] and e.get("escalated") for e in history):
                    continue  # a replay of an escalation already recorded
                known = any(e["contact_id"] == body["contact_id"] and not e.get("pending") for e in history)
                history, rescore = mark_escalated(history, body["contact_id"], body["at_ms"]), known
            else:
                await deadletter(event.message, None, "invalid_record", f"unknown kind {body.get('kind')!r}")
                continue
            job = contact_job(account, history, body["origin_time"]) if rescore else None
            state = {**state, "history": history, "partition": event.message.partition}
            if job is not None:
                state["scored_at"] = state["last_contact_time"] = job.as_of
            # The score first, acknowledged, then the state: a restart that replays this event finds it in the
            # history only if its score is out (and skips it), else scores it again (the same event id).
            await publish([job] if job else [])
            table[account] = state  # changelog write on this event's partition
            m.EVENT_LATENCY.labels(SERVICE).observe(time.perf_counter() - t0)

    @app.timer(settings.decay_interval_s, name="decay-sweep")
    async def decay_sweep() -> None:
        if not health.ready:
            return  # tables still recovering: the sweep would see a partial history
        t0, now = time.perf_counter(), now_ms()
        active = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == accounts.get_topic_name()}
        due = [k for k, s in table.data.items() if s and s.get("partition") in active
               and decay_due(s, now, after_ms, horizon)]
        for i in range(0, len(due), settings.decay_batch):
            jobs, states = [], {}
            for account in due[i:i + settings.decay_batch]:
                s = table.data.get(account)
                if s and decay_due(s, now, after_ms, horizon):  # re-check: the agent may have scored it since
                    jobs.append(Job(account, s["history"], now, "decay", now))
                    states[account] = {**s, "scored_at": now}
            for account, s in states.items():  # no await between reading and writing the states
                table.data[account] = s
                table.send_changelog(s["partition"], account, s)
            await publish(jobs)
            await asyncio.sleep(0)  # let the agents run between batches
        if due:
            log.info("decay sweep", extra={"accounts": len(due), "ms": round((time.perf_counter() - t0) * 1000)})
        m.DECAY_SWEEP.labels(SERVICE).observe(time.perf_counter() - t0)

    lag = LagReporter(app, SERVICE)

    @app.timer(1.0, name="ops-heartbeat")
    async def heartbeat() -> None:
        """Liveness: the event loop runs timers. Readiness: partitions assigned, tables recovered and the broker
        answering (the BrokerWatch)."""
        health.beat()
        health.ready = recovered(app)
        m.READY.labels(SERVICE).set(1 if health.ready else 0)
        m.ACCOUNTS.labels(SERVICE).set(len(table.data))

    @app.timer(5.0, name="consumer-lag")
    async def report_lag() -> None:
        await commit_past_markers(app)  # sentiment's transaction markers: the committed offset reaches the end
        lag.report()

    return app


def run(argv: list[str] | None = None) -> int:
    """Runs the worker until SIGTERM/SIGINT (exit 0) or a fatal error (exit 1)."""
    from cxpulse_core.brokerwatch import watch_broker
    from cxpulse_core.http import serve
    from cxpulse_core.logs import configure_logging, logging_config

    settings, kafka, runtime = ChurnSettings(), KafkaSettings(), RuntimeSettings()
    configure_logging(SERVICE, runtime.log_level)
    health = Health(runtime.liveness_timeout_s)
    model = ChurnModel.load(settings.model_dir)
    Path(settings.data_dir, settings.app_id).mkdir(parents=True, exist_ok=True)  # faust creates only the last level
    app = build_app(settings, kafka, runtime, health, model)
    server = serve(health, runtime.http_host, runtime.http_port)
    watch_broker(kafka, health, SERVICE)
    log.info("started", extra={"app_id": settings.app_id, "model_version": model.version,
                               "bootstrap": kafka.bootstrap_servers, "http_port": server.server_port})
    worker = faust.Worker(app, loglevel=runtime.log_level, logging_config=logging_config(SERVICE, runtime.log_level),
                          redirect_stdouts=False)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception:
        log.exception("fatal error")
        code = 1
    else:
        code = 0
    finally:
        server.shutdown()
    log.info("stopped", extra={"exit_code": code})
    return code
