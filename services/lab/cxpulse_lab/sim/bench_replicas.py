"""Sentiment scale-out, shown rather than assumed: one vs two sentiment replicas (separate processes, one consumer
group, 6 partitions) on the same utterances, and a correctness phase where the second replica joins mid-stream so
partitions, with their contacts' state, move from the first replica to it.

Throughput: every replica started and holding its partitions first, then all utterances produced at once; rate =
utterances / (last output - first output), from the outputs' timestamps (read_committed; counting offsets instead
would count the transaction markers, more of them with more replicas). Correctness: every utterance scored
exactly once (UtteranceSentiment by utterance_event_id, read_committed), and each contact's turn numbering runs
1..n without a restart (a partition whose state did not move with it would number its contacts from 1 again)."""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from cxpulse_core import topics
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.settings import KafkaSettings, RuntimeSettings
from cxpulse_core.testing.bench import wait_for_size
from cxpulse_core.testing.kafka import consume, produce, unique_name
from cxpulse_core.topics import create_topics, load_topics

from .pipeline import Pipeline, isolated_env

PARTITIONS = 6
TURNS = 10  # per contact


def _setup(kafka: KafkaSettings) -> tuple[RuntimeSettings, dict[str, str]]:
    runtime = RuntimeSettings(topic_prefix=unique_name("bench-replicas") + ".", http_port=0)
    create_topics(kafka, [dataclasses.replace(s, partitions=PARTITIONS) for s in load_topics()], runtime.topic_prefix)
    work = Path(tempfile.mkdtemp(prefix="cxpulse-replicas-"))
    env = isolated_env(runtime.topic_prefix, work) | {"CXPULSE_LOG_LEVEL": "WARNING",
                                                      "CXPULSE_SENTIMENT_THREADS": "1"}
    return runtime, env | {"_work": str(work)}


def _replica(kafka: KafkaSettings, runtime: RuntimeSettings, env: dict[str, str], index: int) -> Pipeline:
    work = Path(env["_work"])
    replica = Pipeline(kafka.bootstrap_servers, work / f"replica-{index}", runtime.topic_prefix, base_port=0,
                       env={k: v for k, v in env.items() if k != "_work"}, services=("sentiment",))
    replica.start()
    return replica


def _wait_assigned(kafka: KafkaSettings, group: str, members: int, timeout_s: float = 120.0) -> dict[str, list[int]]:
    """Waits until the group has `members` members that together own all partitions; returns member -> partitions."""
    admin = AdminClient(kafka.client_config())
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            group_info = admin.describe_consumer_groups([group])[group].result(10)
            owned = {m.client_id + "/" + m.member_id[-6:]: sorted(tp.partition for tp in m.assignment.topic_partitions)
                     for m in group_info.members}
            if len(owned) == members and sorted(p for ps in owned.values() for p in ps) == list(range(PARTITIONS)) \
                    and all(owned.values()):
                return owned
        except Exception:  # noqa: BLE001 - the group does not exist yet / is rebalancing
            pass
        time.sleep(0.5)
    raise TimeoutError(f"group {group}: not {members} members owning {PARTITIONS} partitions in {timeout_s:.0f}s")


def _throughput(kafka: KafkaSettings, events: list[tuple[str, dict]], replicas: int) -> dict[str, Any]:
    runtime, env = _setup(kafka)
    running = [_replica(kafka, runtime, env, i) for i in range(replicas)]
    try:
        for r in running:
            r.wait_ready(180)
        owned = _wait_assigned(kafka, env["SENTIMENT_GROUP_ID"], replicas)
        serde, source = SingleObjectSerde(), runtime.topic(topics.INTERACTIONS)
        encoded = [(v["contact_id"], serde.encode(s, v, source)) for s, v in events]
        produce(kafka, source, encoded)
        scored = consume(kafka, runtime.topic(topics.UTTERANCE_SENTIMENT), len(events), timeout_s=600)
        for r in running:
            r.check_alive()
    finally:
        for r in running:
            r.stop()
    if len(scored) < len(events):
        raise RuntimeError(f"{replicas} replica(s) scored {len(scored)} of {len(events)} utterances")
    stamps = [m.timestamp()[1] for m in scored]  # CreateTime, set by the replica's producer
    return {"per_s": round(len(events) / max((max(stamps) - min(stamps)) / 1000, 1e-3), 1), "assignment": owned}


def _correctness(kafka: KafkaSettings, events: list[tuple[str, dict]]) -> dict[str, Any]:
    """Replica 1 scores the first half of every contact; replica 2 joins (partitions and their state move); the
    second half follows. Then: each utterance scored once, each contact numbered 1..TURNS."""
    runtime, env = _setup(kafka)
    serde, source = SingleObjectSerde(), runtime.topic(topics.INTERACTIONS)
    first_half = [(s, v) for s, v in events if v["turn"] <= TURNS // 2]
    second_half = [(s, v) for s, v in events if v["turn"] > TURNS // 2]
    running = [_replica(kafka, runtime, env, 0)]
    try:
        running[0].wait_ready(180)
        before = _wait_assigned(kafka, env["SENTIMENT_GROUP_ID"], 1)
        produce(kafka, source, [(v["contact_id"], serde.encode(s, v, source)) for s, v in first_half])
        wait_for_size(kafka, runtime.topic(topics.UTTERANCE_SENTIMENT), len(first_half))
        running.append(_replica(kafka, runtime, env, 1))
        running[1].wait_ready(180)
        after = _wait_assigned(kafka, env["SENTIMENT_GROUP_ID"], 2)
        produce(kafka, source, [(v["contact_id"], serde.encode(s, v, source)) for s, v in second_half])
        scored = consume(kafka, runtime.topic(topics.UTTERANCE_SENTIMENT), len(events), timeout_s=300, settle_s=3)
        for r in running:
            r.check_alive()
    finally:
        for r in running:
            r.stop()
    values = [serde.decode(m.value()).value for m in scored]
    counts = Counter(v["utterance_event_id"] for v in values)
    expected = {v["event_id"] for _, v in events}
    turns: dict[str, list[int]] = defaultdict(list)
    for v in values:
        turns[v["contact_id"]].append(v["turn"])
    renumbered = [c for c, ts in turns.items() if sorted(ts) != list(range(1, TURNS + 1))]
    moved = sorted(p for member, ps in after.items() if member not in before for p in ps)  # to the new replica
    return {"utterances": len(events), "lost": len(expected - set(counts)),
            "duplicated": sum(c - 1 for c in counts.values() if c > 1),
            "unexpected": len(set(counts) - expected), "contacts": len(turns),
            "contacts_renumbered": len(renumbered), "assignment_before": before, "assignment_after": after,
            "partitions_moved": moved}


def run(kafka: KafkaSettings, n: int = 3000, repeats: int = 2) -> dict[str, Any]:
    from cxpulse_lab.sentiment.bench_service import interactions, sample_texts

    events = interactions(sample_texts(n), per_contact=TURNS)
    one, two = [], []
    for _ in range(repeats):  # interleaved, so both see the same machine
        one.append(_throughput(kafka, events, 1))
        two.append(_throughput(kafka, events, 2))
    one_rate = statistics.median(r["per_s"] for r in one)
    two_rate = statistics.median(r["per_s"] for r in two)
    return {"utterances": len(events), "partitions": PARTITIONS, "runs": repeats,
            "one_replica_per_s": round(one_rate, 1), "two_replicas_per_s": round(two_rate, 1),
            "speedup": round(two_rate / one_rate, 3), "two_replica_assignment": two[-1]["assignment"],
            "rebalance_mid_stream": _correctness(kafka, events)}
