"""The routing service (faust) against a real broker: scripted conversations and a churn-risk record in; exactly
the expected escalations, supervisor alerts and agent guidance out; decision latency measured. The utterances carry
embeddings from the real sentiment encoder (as the sentiment service ships them); routing itself runs no encoder
and ranks against the shipped phrase matrix."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Producer
from conversations import NEUTRAL, conversation, utterance
from routing_process import routing_topics_and_env

from cxpulse_core.ids import now_ms
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.testing.kafka import committed, consume, headers_of, produce, unique_name, values
from cxpulse_core.testing.process import EventTally, ServiceProcess, Traffic, read_topic, wait_until

pytestmark = pytest.mark.kafka
UPDATE, SUMMARY = "io.cxpulse.sentiment.ContactSentimentUpdate", "io.cxpulse.sentiment.ContactSummary"
ESCALATING = [0.2, 0.0, -0.3, -0.5, -0.6, -0.7, 0.1]  # escalates at customer turn 6
CALM = [0.3, 0.4, 0.1, 0.5, 0.2, 0.6, 0.3]
RECOVERS = [-0.5, -0.6, 0.2, -0.5, -0.6, 0.3, 0.4]
RISKY = [-0.2, -0.5, -0.6, -0.7, 0.0, 0.1, 0.2]  # with churn risk 0.8: retention at turn 2
N_ESCALATING = 30


def _summary(contact: str) -> dict:
    side = conversation([0.1], contact=contact)[0]["customer"]
    t = now_ms()
    return {"event_id": f"sum-{contact}", "contact_id": contact, "account_id": "acct-1", "customer_id": None,
            "agent_id": None, "queue": None, "channel": "voice", "journey_stage": None, "started_time": t,
            "ended_time": t, "status": "completed", "turns": 14, "customer": side, "agent": side,
            "overall_score": 0.0, "overall_score5": 0.0, "trend": 0.0, "start_score": 0.0, "end_score": 0.0,
            "model_version": "test", "event_time": t, "origin_time": t, "produced_time": t}


@pytest.fixture
def routing(kafka_settings, new_topic, tmp_path):
    topics, env = routing_topics_and_env(kafka_settings, new_topic, tmp_path)
    with ServiceProcess("cxpulse_routing", env, tmp_path / "routing.log") as service:
        service.start(timeout_s=60)
        yield topics, service, env["ROUTING_APP_ID"]


def test_scripted_conversations_through_the_broker(kafka_settings, routing, tmp_path):
    topics, service, app_id = routing
    serde = SingleObjectSerde()
    risk = {"event_id": "r-1", "account_id": "acct-risk", "probability": 0.8, "band": "high", "reasons": [],
            "contacts_seen": 9, "trigger": "contact", "last_contact_id": None, "model_version": "m",
            "as_of_time": now_ms(), "origin_time": now_ms(), "produced_time": now_ms()}
    produce(kafka_settings, topics["churn"], [("acct-risk", serde.encode("io.cxpulse.churn.ChurnRisk", risk))])
    # The churn risk reaches the GlobalTable (its agent committed past it) before the calls start.
    wait_until(lambda: committed(kafka_settings, app_id, topics["churn"]) >= 1, "the churn risk read by routing", 30)

    calls = {f"c-esc-{i}": conversation(ESCALATING, contact=f"c-esc-{i}") for i in range(N_ESCALATING)}
    calls |= {"c-calm": conversation(CALM, contact="c-calm"),
              "c-recovers": conversation(RECOVERS, contact="c-recovers"),
              "c-risk": conversation(RISKY, contact="c-risk", account="acct-risk")}
    sent: dict[tuple[str, int], int] = {}  # (contact, turn) -> produced_time of the update
    producer = Producer(kafka_settings.client_config() | {"linger.ms": 0, "acks": "all"})
    for turn in range(len(ESCALATING)):  # the calls run side by side, one turn each per round
        for contact, updates in calls.items():
            update = updates[turn] | {"produced_time": now_ms(), "origin_time": now_ms()}
            sent[(contact, update["turn"])] = update["produced_time"]
            producer.produce(topics["contacts"], serde.encode(UPDATE, update, topics["contacts"]), contact.encode())
            producer.poll(0)
            time.sleep(0.01)
        time.sleep(0.2)
    assert producer.flush(10) == 0
    from cxpulse_core.embedding import pack
    from cxpulse_sentiment.model import SentimentModel

    model = SentimentModel.load()
    turns = [("You charged me twice this month, this is ridiculous!", {**NEUTRAL, "anger": 0.9}, -0.95, ""),
             ("I don't understand why this bill has two payments on it?", {**NEUTRAL, "confusion": 0.9}, -0.3, ""),
             ("Okay, sure.", NEUTRAL, 0.1, ""),  # a calm turn: no guidance
             ("This is the third time I'm calling about this!", {**NEUTRAL, "anger": 0.9}, -0.9, "other encoder"),
             ("I want to speak to a manager now.", {**NEUTRAL, "anger": 0.9}, -0.9, "no embedding")]
    embeddings = [pack(v, model.encoder_version) for v in model.embed([t[0] for t in turns])]
    embeddings[3]["encoder"] = "minilm-l6-fp32@0123456789abcdef"  # a sentiment service with another encoder
    embeddings[4] = None  # written before the sentiment service shipped embeddings
    produce(kafka_settings, topics["utterances"],
            [("c-esc-0", serde.encode("io.cxpulse.sentiment.UtteranceSentiment",
                                      utterance(text, emotions, score, turn=i + 1, contact="c-esc-0")
                                      | {"origin_time": now_ms(), "embedding": embedding}))
             for i, ((text, emotions, score, _), embedding) in enumerate(zip(turns, embeddings, strict=True))])
    produce(kafka_settings, topics["contacts"], [("c-esc-0", serde.encode(SUMMARY, _summary("c-esc-0"))),
                                                 ("c-bad", b"not avro")])

    expected = N_ESCALATING + 1
    escalations = values(consume(kafka_settings, topics["escalations"], expected, timeout_s=30, settle_s=2), serde)
    alerts = values(consume(kafka_settings, topics["alerts"], expected, timeout_s=10, settle_s=1), serde)
    guidance = values(consume(kafka_settings, topics["guidance"], 2, timeout_s=20, settle_s=1), serde)
    dead = consume(kafka_settings, topics["deadletter"], 1, timeout_s=10)

    decided = sorted((e["contact_id"], e["evidence"][-1]["turn"], e["rule"], e["target_queue"]) for e in escalations)
    assert decided == sorted([(f"c-esc-{i}", 6, "sustained_negative", "tier2_support") for i in range(N_ESCALATING)]
                             + [("c-risk", 2, "retention_risk", "retention")])
    retention = next(e for e in escalations if e["contact_id"] == "c-risk")
    assert retention["churn_probability"] == 0.8 and retention["priority"] == 1
    assert sorted((a["contact_id"], a["severity"], a["team"]) for a in alerts) == sorted(
        [(f"c-esc-{i}", "warning", "billing") for i in range(N_ESCALATING)] + [("c-risk", "warning", "retention")])
    assert len({a["alert_id"] for a in alerts}) == expected
    by_turn = {g["turn"]: g for g in guidance}
    assert sorted(by_turn) == [1, 2]
    assert by_turn[1]["emotion"] == "anger" and by_turn[2]["emotion"] == "confusion"
    assert by_turn[1]["tone"] != by_turn[2]["tone"] and 1 <= len(by_turn[1]["phrases"]) <= 3
    assert {p["phrase_id"] for p in by_turn[1]["phrases"]}.isdisjoint(p["phrase_id"] for p in by_turn[2]["phrases"])
    print("\nguidance for the angry turn:", [(p["phrase_id"], p["similarity"]) for p in by_turn[1]["phrases"]])
    assert len(dead) == 1 and headers_of(dead[0])["cxpulse.error.reason"] == "decode_error"

    latencies = sorted(e["produced_time"] - sent[(e["contact_id"], e["evidence"][-1]["turn"])] for e in escalations)
    p50, p99 = latencies[len(latencies) // 2], latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"\nrouting decision latency (escalation produced_time - update produced_time), n={len(latencies)}: "
          f"p50={p50} ms p99={p99} ms max={latencies[-1]} ms")
    assert p99 < 2000

    status, text = service.get("/metrics")
    assert status == 200 and 'cxpulse_routing_escalations_total{queue="retention",service="routing"} 1.0' in text
    assert "cxpulse_routing_decision_latency_seconds_bucket" in text and service.get("/healthz")[0] == 200
    for reason in ("encoder_mismatch", "no_embedding"):  # turns 4 and 5: no guidance, counted
        assert f'cxpulse_routing_guidance_skipped_total{{reason="{reason}",service="routing"}} 1.0' in text
    assert "encoder_mismatch" in (tmp_path / "routing.log").read_text()  # logged once, with the reason
    assert service.stop() == 0  # SIGTERM: graceful


def test_kill_9_under_traffic_then_a_restart_recovers_the_tables_and_loses_and_duplicates_nothing(
        kafka_settings, new_topic, tmp_path):
    """Routing killed while conversations flow, restarted on its changelogs (the tables hold data by then):
    ready again, every escalation, alert and guidance produced once (counted by event id)."""
    topics, env = routing_topics_and_env(kafka_settings, new_topic, tmp_path)
    from cxpulse_core.embedding import pack
    from cxpulse_sentiment.model import SentimentModel

    serde = SingleObjectSerde()
    text = "You charged me twice, this is ridiculous!"
    model = SentimentModel.load()
    embedding = pack(model.embed([text])[0], model.encoder_version)  # as the sentiment service ships it
    contacts = [f"k-{i}" for i in range(48)]
    updates, angry = [], []
    for wave in range(0, len(contacts), 6):  # six calls at a time, turn by turn: escalations all along the run
        calls = {c: conversation(ESCALATING, contact=c) for c in contacts[wave:wave + 6]}
        for turn in range(len(ESCALATING)):
            updates += [(c, serde.encode(UPDATE, u[turn], topics["contacts"])) for c, u in calls.items()]
        angry += [(c, serde.encode("io.cxpulse.sentiment.UtteranceSentiment",
                                   utterance(text, {**NEUTRAL, "anger": 0.9}, -0.9, turn=2, contact=c)
                                   | {"embedding": embedding}, topics["utterances"]))
                  for c in calls]
    # An escalating call in a transaction that is aborted: routing reads committed data only, so it never sees it.
    aborted = Producer(kafka_settings.client_config() | {"transactional.id": unique_name("aborted")})
    aborted.init_transactions(30)
    aborted.begin_transaction()
    for update in conversation(ESCALATING, contact="aborted-1"):
        aborted.produce(topics["contacts"], serde.encode(UPDATE, update, topics["contacts"]), b"aborted-1")
    aborted.flush(30)
    aborted.abort_transaction(30)
    with ServiceProcess("cxpulse_routing", env, tmp_path / "routing.log") as service:
        service.start()
        with Traffic(kafka_settings, topics["contacts"], updates, rate=30) as traffic, \
                Traffic(kafka_settings, topics["utterances"], angry, rate=4) as guidance_traffic:
            wait_until(lambda: len(read_topic(kafka_settings, topics["escalations"])) >= len(contacts) // 4,
                       "a quarter of the escalations before the kill")
            ready_s = service.kill_and_restart()
            traffic.wait()
            guidance_traffic.wait()
        outputs = ("escalations", "alerts", "guidance")
        def counts() -> dict[str, int]:
            return {o: len(EventTally.read(kafka_settings, topics[o], serde)) for o in outputs}

        try:
            wait_until(lambda: min(counts().values()) >= len(contacts),
                       "every escalation, alert and guidance after the restart", 120)
        except AssertionError:
            dead = [headers_of(m) for m in read_topic(kafka_settings, topics["deadletter"])]
            raise AssertionError(f"{counts()} of {len(contacts)} each; dead letters {dead}") from None
        # Last, a transaction on every input partition, as sentiment writes them (calm turns: no output): its commit
        # marker now ends each partition, one offset past the last record.
        tail = Producer(kafka_settings.client_config() | {"transactional.id": unique_name("tail")})
        tail.init_transactions(30)
        tail.begin_transaction()
        for partition in range(3):
            contact = f"calm-{partition}"
            tail.produce(topics["contacts"], serde.encode(UPDATE, conversation(CALM, contact=contact)[0],
                                                          topics["contacts"]), contact.encode(), partition=partition)
            tail.produce(topics["utterances"], serde.encode(
                "io.cxpulse.sentiment.UtteranceSentiment", utterance("Okay, sure.", NEUTRAL, 0.1, turn=1,
                                                                     contact=contact), topics["utterances"]),
                contact.encode(), partition=partition)
        tail.commit_transaction(30)
        # The committed offsets followed, past the markers too: lag 0 on every input partition of the caught-up
        # pipeline (faust alone committed the offset after the last record, one short of the end, for good).
        group = env["ROUTING_APP_ID"]
        def lag(topic: str, partition: int) -> float:
            value = service.metric("cxpulse_consumer_lag", service="routing", topic=topics[topic],
                                   partition=str(partition), consumer_group=group)
            return float("inf") if value is None else value

        wait_until(lambda: all(lag(t, p) == 0 for t in ("contacts", "utterances") for p in range(3)),
                   "lag 0 reported on every input partition")
        assert service.stop() == 0
    print(f"\nrouting: kill -9 under traffic -> ready again (tables recovered) in {ready_s:.1f} s")
    assert "has no attribute 'from_data'" not in service.log_tail(10**7)
    for output in outputs:
        records = [serde.decode(m.value(), m.topic()).value for m in read_topic(kafka_settings, topics[output])]
        tally = EventTally(r["event_id"] for r in records)
        print(f"routing {output}: {len(records)} records, {len(tally)} event ids, duplicated {tally.duplicated()}")
        # One each: none lost, none twice, and nothing for the aborted call.
        assert sorted(r["contact_id"] for r in records) == sorted(contacts)
        assert tally.duplicated() == {}
