"""The shared plumbing against a real broker: both wire formats, dead letters, at-least-once on a crash."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
from echo_service import PreparedEcho, build
from prometheus_client import REGISTRY

from cxpulse_core.changelog import topic_partitions
from cxpulse_core.dlq import DeadLetterLimitError
from cxpulse_core.serde import ConfluentSerde, SingleObjectSerde
from cxpulse_core.settings import SchemaRegistrySettings
from cxpulse_core.testing.kafka import committed, consume, headers_of, produce, unique_name, values
from cxpulse_core.testing.net import wait_until
from cxpulse_core.testing.services import RunningLoop
from cxpulse_core.topics import create_topics, load_topics

pytestmark = pytest.mark.kafka
SCHEMA = "io.cxpulse.churn.ChurnRisk"
ECHO = Path(__file__).with_name("echo_service.py")


def risk(i: int) -> dict:
    return {"event_id": f"r-{i}", "account_id": f"a-{i}", "probability": i / 100, "band": "low", "reasons": [],
            "contacts_seen": i, "trigger": "contact", "last_contact_id": None, "model_version": "m",
            "as_of_time": 1_764_190_800_000 + i, "origin_time": 1_764_190_800_000, "produced_time": 0}


def risks(serde, topic: str, n: int) -> list[tuple[str, bytes]]:
    return [(f"a-{i}", serde.encode(SCHEMA, risk(i), topic)) for i in range(n)]


@pytest.mark.parametrize("make", [SingleObjectSerde, lambda: ConfluentSerde(SchemaRegistrySettings(url="mock://it"))],
                         ids=["single-object", "confluent"])
def test_avro_round_trip_through_the_broker(kafka_settings, new_topic, make):
    serde = make()
    topic = new_topic()
    produce(kafka_settings, topic, risks(serde, topic, 20))
    received = values(consume(kafka_settings, topic, 20), serde)
    assert [v["event_id"] for v in received] == [f"r-{i}" for i in range(20)]
    assert received[3] == risk(3)


def test_a_malformed_record_goes_to_the_deadletter_topic_and_good_ones_pass(kafka_settings, new_topic):
    serde = SingleObjectSerde()
    source, sink, dlq = new_topic("in"), new_topic("out"), new_topic("dlq")
    records = risks(serde, source, 5)
    records.insert(2, ("c-bad", b"not avro at all"))
    produce(kafka_settings, source, records)
    running = RunningLoop(build(kafka_settings, source, sink, dlq, unique_name("g")))
    try:
        out = consume(kafka_settings, sink, 5, timeout_s=30)
        dead = consume(kafka_settings, dlq, 1, timeout_s=10)
    finally:
        running.stop()
    assert running.error is None
    assert sorted(v["event_id"] for v in values(out, serde)) == [f"r-{i}" for i in range(5)]
    assert len(dead) == 1
    headers = headers_of(dead[0])
    assert dead[0].value() == b"not avro at all"  # the original bytes, untouched
    assert dead[0].key() == b"c-bad"
    assert headers["cxpulse.error.reason"] == "decode_error"
    assert "C3 01" in headers["cxpulse.error.message"]
    assert headers["cxpulse.error.source.topic"] == source
    assert headers["cxpulse.error.source.offset"] == "2"


def committed_offset(kafka_settings, group: str, topic: str) -> int:
    consumer = Consumer(kafka_settings.client_config() | {"group.id": group})
    try:
        return consumer.committed([TopicPartition(topic, 0)], timeout=10)[0].offset
    finally:
        consumer.close()


def test_a_flood_of_junk_is_dead_lettered_and_valid_records_keep_flowing(kafka_settings, new_topic):
    serde = SingleObjectSerde()
    source, sink, dlq = new_topic("in"), new_topic("out"), new_topic("dlq")
    produce(kafka_settings, source, [(f"k{i}", b"junk") for i in range(30)] + risks(serde, source, 5))
    running = RunningLoop(build(kafka_settings, source, sink, dlq, unique_name("g"), max_ratio=0.5))
    try:
        out = consume(kafka_settings, sink, 5, timeout_s=30)
        dead = consume(kafka_settings, dlq, 30, timeout_s=30)
        assert REGISTRY.get_sample_value("cxpulse_deadletter_flood", {"service": "echo"}) == 1  # the alert's input
    finally:
        running.stop()
    assert running.error is None and len(out) == 5 and len(dead) == 30


def test_stopping_on_a_flood_is_opt_in_and_commits_the_dead_letters_first(kafka_settings, new_topic):
    source, sink, dlq = new_topic("in"), new_topic("out"), new_topic("dlq")
    produce(kafka_settings, source, [(f"k{i}", b"junk") for i in range(30)])
    group = unique_name("g")
    running = RunningLoop(build(kafka_settings, source, sink, dlq, group, max_ratio=0.5, stop_on_flood=True))
    running.thread.join(30)
    assert isinstance(running.error, DeadLetterLimitError)
    dead = consume(kafka_settings, dlq, 1, timeout_s=10, settle_s=1)
    # Everything it read before stopping is in the dead-letter topic and committed: a restart goes on after it.
    assert dead and committed_offset(kafka_settings, group, source) == len(dead)
    assert [int(headers_of(m)["cxpulse.error.source.offset"]) for m in dead] == list(range(len(dead)))


def test_a_record_the_broker_refuses_is_dead_lettered_and_the_loop_goes_on(kafka_settings, new_topic):
    serde = SingleObjectSerde()
    source, dlq = new_topic("in"), new_topic("dlq")
    sink = unique_name("refusing-out")
    admin = AdminClient(kafka_settings.client_config())
    created = admin.create_topics([NewTopic(sink, 1, 1, config={"max.message.bytes": "20000"})])
    created[sink].result(30)
    produce(kafka_settings, source, risks(serde, source, 6))
    # r-1: larger than the producer's own message.max.bytes (refused before sending); r-3: over the topic's limit
    # (refused by the broker, reported in the delivery callback).
    loop = build(kafka_settings, source, sink, dlq, unique_name("g"), oversize={"r-1": 2_000_000, "r-3": 100_000})
    running = RunningLoop(loop)
    try:
        out = consume(kafka_settings, sink, 4, timeout_s=30)
        dead = consume(kafka_settings, dlq, 2, timeout_s=30, settle_s=1)
    finally:
        running.stop()
    assert running.error is None
    assert [headers_of(m)["cxpulse.error.reason"] for m in dead] == ["produce_error", "produce_error"]
    assert sorted(headers_of(m)["cxpulse.error.source.offset"] for m in dead) == ["1", "3"]
    assert all("MSG_SIZE_TOO_LARGE" in headers_of(m)["cxpulse.error.message"] for m in dead)
    assert len(out) == 4


def test_a_consumer_killed_before_storing_its_offset_reads_the_record_again(kafka_settings, new_topic):
    serde = SingleObjectSerde()
    source, sink, dlq = new_topic("in"), new_topic("out"), new_topic("dlq")
    group = unique_name("g")
    args = [sys.executable, str(ECHO), kafka_settings.bootstrap_servers, source, sink, dlq, group]
    first = subprocess.Popen(args, env=os.environ | {"CRASH_ON_EVENT": "r-4"})
    records = risks(serde, source, 6)
    produce(kafka_settings, source, records[:4])
    assert len(consume(kafka_settings, sink, 4, timeout_s=30)) == 4
    wait_until(lambda: committed(kafka_settings, group, source) >= 4, "r-0..r-3 committed (auto-commit)", 30)
    produce(kafka_settings, source, records[4:])
    assert first.wait(30) == 9  # died on r-4 before producing it: its offset was never stored
    restarted = subprocess.Popen(args)
    try:
        # The dead member holds its partition until its session times out (6 s here).
        after = [v["event_id"] for v in values(consume(kafka_settings, sink, 6, timeout_s=45, settle_s=2), serde)]
    finally:
        restarted.terminate()
        restarted.wait(30)
    assert restarted.returncode == 0  # SIGTERM is a graceful stop
    assert sorted(after) == [f"r-{i}" for i in range(6)]  # r-4 read again, nothing lost, nothing doubled


def test_a_transactional_loop_prepares_the_next_batch_while_one_commits_and_loses_or_doubles_nothing(
        kafka_settings, new_topic):
    """Exactly-once with the commit in the background: records arriving while the loop runs, a graceful stop,
    and a second instance of the same transactional id and group that goes on where the first stopped."""
    serde = SingleObjectSerde()
    source, sink, dlq = new_topic("in"), new_topic("out"), new_topic("dlq")
    group = unique_name("g")
    records = risks(serde, source, 1500)
    first = PreparedEcho(sink)
    with RunningLoop(build(kafka_settings, source, sink, dlq, group, handler=first, transactional=True)):
        for start in range(0, 1000, 100):  # in bursts, so that batches arrive while others commit
            produce(kafka_settings, source, records[start:start + 100])
            time.sleep(0.05)
        assert len(consume(kafka_settings, sink, 1000, timeout_s=60)) == 1000
    # every batch was prepared before it was handled: the very same batch, in the same order
    assert len(first.handled) > 1 and [id(b) for b in first.handled] == [id(b) for b in first.prepared]
    second = PreparedEcho(sink)
    produce(kafka_settings, source, records[1000:])
    with RunningLoop(build(kafka_settings, source, sink, dlq, group, handler=second, transactional=True)):
        out = values(consume(kafka_settings, sink, 1500, timeout_s=60, settle_s=2), serde)
    assert sorted(v["event_id"] for v in out) == sorted(f"r-{i}" for i in range(1500))  # none lost, none twice
    assert sum(len(b) for b in second.handled) == 500  # the second went on after the first's last commit


@pytest.mark.registry
def test_unknown_schema_ids_and_fingerprints_go_to_the_deadletter_topic_named(kafka_settings, new_topic,
                                                                              schema_registry):
    """With a real registry: a Confluent-framed record whose schema id the registry does not know, and a
    single-object record whose fingerprint no shipped schema has, are dead-lettered with reasons that name them;
    the good records around them pass (both wire formats are read)."""
    serde = ConfluentSerde(SchemaRegistrySettings(url=schema_registry))
    source, sink, dlq = new_topic("in"), new_topic("out"), new_topic("dlq")
    good = risks(serde, source, 2) + risks(SingleObjectSerde(), source, 3)[2:]
    body = good[0][1][5:]
    records = [good[0], ("k-id", b"\x00" + (424242).to_bytes(4, "big") + body), good[1],
               ("k-fp", b"\xc3\x01" + bytes.fromhex("0102030405060708") + body), good[2]]
    produce(kafka_settings, source, records)
    running = RunningLoop(build(kafka_settings, source, sink, dlq, unique_name("g"), serde=serde))
    try:
        out = consume(kafka_settings, sink, 3, timeout_s=30)
        dead = consume(kafka_settings, dlq, 2, timeout_s=15)
    finally:
        running.stop()
    assert running.error is None
    assert sorted(v["event_id"] for v in values(out, serde)) == ["r-0", "r-1", "r-2"]
    reasons = {m.key(): headers_of(m) for m in dead}
    assert set(reasons) == {b"k-id", b"k-fp"}
    assert reasons[b"k-id"]["cxpulse.error.reason"] == "decode_error"
    assert "unknown schema id 424242" in reasons[b"k-id"]["cxpulse.error.message"]
    assert "unknown writer schema fingerprint 0102030405060708" in reasons[b"k-fp"]["cxpulse.error.message"]


def test_the_broker_sees_the_client_id_of_service_and_instance(kafka_settings, new_topic):
    """client.id `cxpulse-<service>-<instance>`, as the group coordinator reports it (what quotas, broker logs and
    kafka-consumer-groups.sh --describe show)."""
    from confluent_kafka.admin import AdminClient

    from cxpulse_core.kafka import make_consumer

    topic, group = new_topic(), unique_name("g")
    consumer = make_consumer(kafka_settings.for_client("echo", "echo-7"), group)
    consumer.subscribe([topic])
    admin = AdminClient(kafka_settings.client_config())
    deadline = time.monotonic() + 30
    members = []
    try:
        while time.monotonic() < deadline and not members:
            consumer.poll(0.2)
            if consumer.assignment():
                members = admin.describe_consumer_groups([group])[group].result(10).members
    finally:
        consumer.close()
    assert [m.client_id for m in members] == ["cxpulse-echo-echo-7"]


def test_copartition_creates_the_table_changelog_before_the_worker_and_refuses_a_mismatch(kafka_settings, new_topic):
    """A faust table's changelog exists with its source's partitions before the consumer joins (left to faust, a
    consumer could see it with 0 partitions and refuse the first table writes); a mismatch is an error at start."""
    import faust

    from cxpulse_core.changelog import MissingTopicError, topic_partitions
    from cxpulse_core.faust_broker import broker_urls
    from cxpulse_core.faust_ops import copartition

    def table(app_id: str) -> faust.types.TableT:
        return faust.App(app_id, broker=broker_urls(kafka_settings), topic_replication_factor=1).Table("t")

    app_id = unique_name("copart")
    assert copartition(table(app_id), kafka_settings, new_topic("src3", partitions=3)) == 3
    assert len(topic_partitions(kafka_settings, f"{app_id}-t-changelog")) == 3
    admin = AdminClient(kafka_settings.client_config())
    config = admin.describe_configs([ConfigResource("topic", f"{app_id}-t-changelog")])
    (future,) = config.values()
    assert future.result()["cleanup.policy"].value == "compact"
    assert future.result()["segment.ms"].value == "3600000"  # compactable within the hour (topics.TopicSpec)
    assert copartition(table(app_id), kafka_settings, new_topic("again3", partitions=3)) == 3  # exists: fine
    with pytest.raises(MissingTopicError, match="3 partitions"):
        copartition(table(app_id), kafka_settings, new_topic("src2", partitions=2))


def test_topics_created_are_served_when_create_topics_returns(kafka_settings):
    """A service started right after `cxpulse topics create` reads its changelog's partitions at once; it found
    them missing (UNKNOWN_TOPIC_OR_PART) when the broker had not caught up with the controller yet."""
    prefix = unique_name("created") + "."
    specs = load_topics()
    results = create_topics(kafka_settings, specs, prefix)
    assert set(results.values()) == {"created"}
    for spec in specs:
        assert len(topic_partitions(kafka_settings, prefix + spec.name, timeout_s=5)) == spec.partitions
