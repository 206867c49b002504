"""Churn scoring through the real broker: the faust worker runs as a subprocess (`python -m cxpulse_churn`)."""

from __future__ import annotations

import json
import signal
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.testing.kafka import committed, consume, headers_of, produce, unique_name, values
from cxpulse_core.testing.process import EventTally, ServiceProcess, Traffic, read_topic, wait_until

pytestmark = pytest.mark.kafka
SERDE = SingleObjectSerde()
DAY_MS = 86_400_000
NOW = int(time.time() * 1000)


def speaker(score: float, anger: float = 0.0) -> dict[str, Any]:
    return {"turns": 6, "rolling_score": score, "mean_score": score, "quarter_means": [score, None, score, score],
            "trend": 0.0, "overall_score": score, "overall_score5": 5 * score, "negative_turns": 4 if score < 0 else 0,
            "consecutive_negative": 2 if score < 0 else 0, "peak_anger": anger, "peak_frustration": anger}


def summary(contact_id: str, account_id: str | None, ended_time: int, score: float, anger: float = 0.0,
            status: str = "completed", origin_time: int | None = None) -> dict[str, Any]:
    return {"event_id": f"sum-{contact_id}", "contact_id": contact_id, "account_id": account_id,
            "customer_id": None, "agent_id": "agent-7", "queue": "billing", "channel": "voice",
            "journey_stage": "billing", "started_time": ended_time - 300_000, "ended_time": ended_time,
            "status": status, "turns": 12, "customer": speaker(score, anger), "agent": speaker(0.4),
            "overall_score": score, "overall_score5": 5 * score, "trend": 0.0, "start_score": score,
            "end_score": score, "model_version": "test", "event_time": ended_time,
            "origin_time": origin_time or ended_time, "produced_time": ended_time}


def escalation(contact_id: str, account_id: str, at: int) -> dict[str, Any]:
    return {"event_id": f"x-{contact_id}", "contact_id": contact_id, "account_id": account_id, "customer_id": None,
            "agent_id": "agent-7", "queue": "billing", "channel": "voice", "journey_stage": "billing",
            "rule": "sustained_negative", "reason": "test", "evidence": [], "churn_probability": None,
            "target_queue": "retention", "priority": 1, "event_time": at, "origin_time": at, "produced_time": at}


def update(contact_id: str, account_id: str) -> dict[str, Any]:
    s = speaker(-0.6, 0.6)
    return {"event_id": f"u-{contact_id}", "contact_id": contact_id, "account_id": account_id, "customer_id": None,
            "agent_id": None, "queue": None, "channel": "voice", "journey_stage": None, "turn": 3,
            "speaker": "customer", "utterance_id": "u-3", "last_label": "negative", "last_score": -0.7,
            "last_emotions": {"anger": 0.6, "frustration": 0.7, "confusion": 0.0, "disappointment": 0.4,
                              "anxiety": 0.0, "gratitude": 0.0, "satisfaction": 0.0},
            "customer": s, "agent": s, "model_version": "test", "event_time": NOW, "origin_time": NOW,
            "produced_time": NOW}


def enc(topic: str, schema: str, value: dict[str, Any]) -> tuple[str, bytes]:
    return value["contact_id"], SERDE.encode(f"io.cxpulse.{schema}", value, topic)


@pytest.fixture
def topics(new_topic: Any) -> dict[str, str]:
    return {"contacts": new_topic("contacts", partitions=3), "escalations": new_topic("esc"),
            "risk": new_topic("risk", compact=True), "deadletter": new_topic("dlq")}


@pytest.fixture
def worker_factory(kafka_settings: Any, topics: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    """Makes the churn-scoring service as a process (`python -m cxpulse_churn`) with CHURN_<KEY> settings; start()
    returns once /readyz answers 200. Every one made is killed after the test."""
    started: list[ServiceProcess] = []

    def make(**settings: Any) -> ServiceProcess:
        env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers, "CHURN_PARTITIONS": "2",
               "CHURN_SESSION_TIMEOUT_S": "6", **{f"CHURN_{k.upper()}_TOPIC": v for k, v in topics.items()},
               **{f"CHURN_{k.upper()}": str(v) for k, v in ({"data_dir": tmp_path / "faust"} | settings).items()}}
        started.append(ServiceProcess("cxpulse_churn", env, tmp_path / "worker.log"))
        return started[-1]

    yield make
    for worker in started:
        worker.close()


def risks(kafka_settings: Any, topic: str, expected: int, timeout_s: float = 30, settle_s: float = 0.0) -> list:
    return values(consume(kafka_settings, topic, expected, timeout_s, settle_s), SERDE)


def risks_until(kafka_settings: Any, topic: str, done: Any, timeout_s: float = 30) -> list:
    """Re-reads the topic until done(records) holds (or the timeout passed); returns the last read."""
    deadline = time.monotonic() + timeout_s
    while True:
        out = risks(kafka_settings, topic, 1_000_000, timeout_s=1.5)
        if done(out) or time.monotonic() > deadline:
            return out


def test_summaries_become_risk_with_reasons_repeat_complaints_raise_it_and_bad_input_is_deadlettered(
        kafka_settings, topics, worker_factory):
    worker = worker_factory(app_id=unique_name("churn-a"), decay_interval_s=1, decay_after_s=15)
    c, e = topics["contacts"], topics["escalations"]
    # Account A complains again and again (an escalation arrives before its contact's summary); B is happy.
    days = [21, 14, 9, 5]
    a = [summary(f"a-{i}", "acct-A", NOW - d * DAY_MS, -0.5 - 0.1 * i, anger=0.3 + 0.15 * i, status="failed")
         for i, d in enumerate(days)]
    b = [summary(f"b-{i}", "acct-B", NOW - d * DAY_MS, 0.6) for i, d in enumerate((20, 3))]
    produce(kafka_settings, e, [enc(e, "routing.Escalation", escalation("a-2", "acct-A", NOW - 9 * DAY_MS - 60_000))])
    produce(kafka_settings, c, [enc(c, "sentiment.ContactSentimentUpdate", update("a-0", "acct-A")),
                                ("c-junk", b"not avro at all"),
                                enc(c, "sentiment.ContactSummary", summary("n-1", None, NOW, -0.9))])
    produce(kafka_settings, c, [enc(c, "sentiment.ContactSummary", s) for s in [*b, *a]])
    worker.start()
    out = risks(kafka_settings, topics["risk"], 6)
    contact = [r for r in out if r["trigger"] == "contact"]
    assert len(contact) == 6 and len({r["event_id"] for r in contact}) == 6
    by_account = {acct: sorted((r for r in contact if r["account_id"] == acct), key=lambda r: r["contacts_seen"])
                  for acct in ("acct-A", "acct-B")}
    rising = by_account["acct-A"]
    assert [r["contacts_seen"] for r in rising] == [1, 2, 3, 4]
    probs = [r["probability"] for r in rising]
    assert probs == sorted(probs) and probs[-1] > probs[0]  # more negative contacts never lower risk
    assert rising[-1]["band"] in ("high", "critical") and rising[-1]["band"] != by_account["acct-B"][-1]["band"]
    assert rising[-1]["last_contact_id"] == "a-3" and rising[-1]["as_of_time"] == a[3]["ended_time"]
    top = rising[-1]["reasons"]
    assert top and all(r["text"] and r["feature"] for r in top) and top[0]["contribution"] > 0
    assert rising[-1]["origin_time"] == a[3]["origin_time"] or rising[-1]["last_contact_id"] == "a-3"
    # The decay sweep rescores both quiet accounts with the full history, as of now.
    def full_decay(records: list) -> dict[str, Any]:
        return {r["account_id"]: r for r in records if r["trigger"] == "decay"
                and r["contacts_seen"] == (4 if r["account_id"] == "acct-A" else 2)}

    decayed = full_decay(risks_until(kafka_settings, topics["risk"], lambda rs: len(full_decay(rs)) == 2))
    assert set(decayed) == {"acct-A", "acct-B"}
    assert decayed["acct-A"]["as_of_time"] >= NOW and decayed["acct-A"]["last_contact_id"] == "a-3"
    # One dead letter (the junk), with its original bytes and the reason; the update and the record without an
    # account are skipped, not dead-lettered.
    dead = consume(kafka_settings, topics["deadletter"], 1, timeout_s=10, settle_s=1)
    assert len(dead) == 1 and dead[0].value() == b"not avro at all" and dead[0].key() == b"c-junk"
    headers = headers_of(dead[0])
    assert headers["cxpulse.error.reason"] == "decode_error" and headers["cxpulse.error.source.topic"] == c
    status, text = worker.get("/metrics")
    assert status == 200 and 'cxpulse_deadletters_total{reason="decode_error",service="churn-scoring"} 1.0' in text
    assert 'cxpulse_churn_scores_total{band="' in text and 'trigger="decay"' in text
    assert 'cxpulse_churn_accounts{service="churn-scoring"} 2.0' in text
    assert 'cxpulse_churn_skipped_total{reason="no_account",service="churn-scoring"} 1.0' in text
    assert worker.get("/healthz")[0] == 200
    # Latency through the broker: contacts -> repartition -> score -> risk, one contact at a time.
    # One warm producer: a new one per record would time its own start-up (~0.5 s), not the service.
    producer = Producer(kafka_settings.client_config() | {"linger.ms": 0, "partitioner": "murmur2_random"})
    n = 60
    for i in range(n):
        t = int(time.time() * 1000)
        key, value = enc(c, "sentiment.ContactSummary", summary(f"l-{i}", f"acct-l{i}", t, -0.3, origin_time=t))
        producer.produce(c, value, key.encode())
        assert producer.flush(10) == 0
        time.sleep(0.03)
    def fresh_of(records: list) -> list:
        return [r for r in records if r["account_id"].startswith("acct-l") and r["trigger"] == "contact"]

    fresh = fresh_of(risks_until(kafka_settings, topics["risk"], lambda rs: len(fresh_of(rs)) >= n))
    assert len(fresh) == n
    lat = sorted(r["produced_time"] - r["origin_time"] for r in fresh)
    p50, p99 = statistics.median(lat), lat[int(0.99 * (n - 1))]
    print(f"\nchurn: summary->risk latency through the broker p50 {p50:.0f} ms, p99 {p99:.0f} ms (n={n})")
    assert p50 < 250
    assert worker.stop() == 0  # SIGTERM: graceful


def test_a_killed_worker_recovers_its_table_and_neither_loses_nor_doubles_scores(
        kafka_settings, topics, worker_factory):
    app_id = unique_name("churn-k")
    c = topics["contacts"]
    k = [summary(f"k-{i}", "acct-K", NOW - (30 - 5 * i) * DAY_MS, -0.6, anger=0.5, status="failed")
         for i in range(4)]
    first = worker_factory(app_id=app_id, commit_interval_s=0.5)
    first.start()
    produce(kafka_settings, c, [enc(c, "sentiment.ContactSummary", s) for s in k[:2]])
    assert len(risks(kafka_settings, topics["risk"], 2)) == 2
    # k-0, k-1 committed (read from contacts and from the repartition topic): they will NOT be read again, only the
    # changelog knows them.
    wait_until(lambda: committed(kafka_settings, app_id, c) >= 2
               and committed(kafka_settings, app_id, f"{app_id}-accounts-repartition") >= 2,
               "k-0 and k-1 committed by the worker", 30)
    produce(kafka_settings, c, [enc(c, "sentiment.ContactSummary", k[2])])
    before = risks(kafka_settings, topics["risk"], 3)
    assert len(before) == 3
    first.stop(signal.SIGKILL)
    second = worker_factory(app_id=app_id, commit_interval_s=0.5)
    recovery_s = second.start()
    print(f"\nchurn: SIGKILL -> restarted worker ready (table recovered) in {recovery_s:.1f} s")
    # Re-deliver k-1 and k-2 (as an upstream replay would), then a new contact k-3.
    produce(kafka_settings, c, [enc(c, "sentiment.ContactSummary", s) for s in k[1:]])
    after = risks(kafka_settings, topics["risk"], 4, timeout_s=30, settle_s=2)  # the replays add nothing
    second.stop()
    new = [r for r in after if r["last_contact_id"] == "k-3"]
    assert len(new) == 1 and new[0]["contacts_seen"] == 4  # history continued, not reset to the replayed ones
    old_ids = {r["event_id"] for r in before}
    assert {r["event_id"] for r in after} == old_ids | {new[0]["event_id"]}  # replays: same ids, nothing extra
    assert sorted(r["contacts_seen"] for r in before) == [1, 2, 3]
    status_ok = {r["event_id"]: r["probability"] for r in before}
    assert all(status_ok[r["event_id"]] == r["probability"] for r in after if r["event_id"] in status_ok)


def test_kill_9_under_traffic_then_a_restart_loses_and_duplicates_no_score(kafka_settings, topics, tmp_path):
    """Summaries keep arriving while the worker is killed and restarted on its table changelog: one score per
    summary, none lost, none twice (counted by event id and by contact)."""
    c = topics["contacts"]
    summaries = [summary(f"t-{i}", f"acct-t{i % 40}", NOW - (200 - i) * 60_000, -0.4 if i % 3 else 0.5)
                 for i in range(240)]
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers, "CHURN_PARTITIONS": "2",
           "CHURN_SESSION_TIMEOUT_S": "6", "CHURN_APP_ID": unique_name("churn-t"), "CHURN_COMMIT_INTERVAL_S": "0.5",
           "CHURN_DATA_DIR": str(tmp_path / "faust"), "CXPULSE_LOG_LEVEL": "WARNING",
           **{f"CHURN_{k.upper()}_TOPIC": v for k, v in topics.items()}}
    with ServiceProcess("cxpulse_churn", env, tmp_path / "churn.log") as service:
        service.start()
        with Traffic(kafka_settings, c, [enc(c, "sentiment.ContactSummary", s) for s in summaries], rate=20) as traffic:
            wait_until(lambda: len(read_topic(kafka_settings, topics["risk"])) >= len(summaries) // 4,
                       "a quarter of the scores before the kill")
            ready_s = service.kill_and_restart()
            traffic.wait()

        def scored() -> list[dict[str, Any]]:
            return [r for r in values(read_topic(kafka_settings, topics["risk"]), SERDE) if r["trigger"] == "contact"]

        wait_until(lambda: {r["last_contact_id"] for r in scored()} >= {s["contact_id"] for s in summaries},
                   "a score for every summary after the restart", 180)
        # A transaction on every contacts partition, as sentiment writes them (updates: churn skips them); its
        # commit marker ends each partition. The group's committed offsets reach the end: lag 0 everywhere.
        tail = Producer(kafka_settings.client_config() | {"transactional.id": unique_name("tail")})
        tail.init_transactions(30)
        tail.begin_transaction()
        for partition in range(3):
            key, value = enc(c, "sentiment.ContactSentimentUpdate", update(f"calm-{partition}", "acct-calm"))
            tail.produce(c, value, key.encode(), partition=partition)
        tail.commit_transaction(30)

        def lag(partition: int) -> float:
            value = service.metric("cxpulse_consumer_lag", service="churn-scoring", topic=c, partition=str(partition),
                                   consumer_group=env["CHURN_APP_ID"])
            return float("inf") if value is None else value

        wait_until(lambda: all(lag(p) == 0 for p in range(3)), "lag 0 reported on every contacts partition")
        assert service.stop() == 0
    out = scored()
    print(f"\nchurn: kill -9 under traffic -> ready again in {ready_s:.1f} s; {len(out)} contact scores")
    assert EventTally(r["event_id"] for r in out).duplicated() == {}
    assert sorted(r["last_contact_id"] for r in out) == sorted(s["contact_id"] for s in summaries)


def test_escalations_of_contacts_that_never_end_expire_from_the_history_and_its_changelog(
        kafka_settings, topics, worker_factory):
    app_id = unique_name("churn-p")
    worker = worker_factory(app_id=app_id, contact_ttl_s=8, contact_ttl_check_s=1)
    c, e = topics["contacts"], topics["escalations"]
    worker.start()
    now = int(time.time() * 1000)  # the TTL counts from the escalation's time
    produce(kafka_settings, c, [enc(c, "sentiment.ContactSummary", summary("p-done", "acct-P", now - DAY_MS, -0.5))])
    produce(kafka_settings, e, [enc(e, "routing.Escalation", escalation(f"p-open-{i}", "acct-P", now))
                                for i in range(5)])
    wait_until(lambda: worker.metric("cxpulse_state_expired_total", service="churn-scoring",
                                     state="pending_escalations") == 5,
               "the five stubs expired")
    rows = [json.loads(m.value()) for m in read_topic(kafka_settings, f"{app_id}-accounts-changelog")
            if json.loads(m.key()) == "acct-P"]
    assert any(entry.get("pending") for entry in rows[-2]["history"])  # the stubs were written, then dropped
    assert [entry["contact_id"] for entry in rows[-1]["history"]] == ["p-done"]
    # A summary of an expired contact still arrives as a contact, without the escalation it lost with its stub.
    produce(kafka_settings, c, [enc(c, "sentiment.ContactSummary", summary("p-open-0", "acct-P", now, -0.5))])
    out = risks_until(kafka_settings, topics["risk"], lambda rs: any(r["contacts_seen"] == 2 for r in rs))
    assert max(r["contacts_seen"] for r in out) == 2
    assert worker.stop() == 0
