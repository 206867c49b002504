"""The sentiment service through a real broker: one output per utterance and a summary at contact end; a kill
mid-conversation loses and duplicates nothing (exactly-once, state restored from its changelog)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from cxpulse_core import topics
from cxpulse_core.ids import derived_id
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.testing.kafka import consume, produce, unique_name
from cxpulse_core.testing.process import EventTally, ServiceProcess, Traffic, read_topic, wait_until

pytestmark = pytest.mark.kafka
NS = "io.cxpulse.interaction."
T0 = 1_764_190_800_000
CONTEXT = {"account_id": "acct-1", "customer_id": None, "agent_id": "ag-1", "queue": "billing", "channel": "voice",
           "journey_stage": "billing"}
LINES = [("agent", "Thank you for calling, how can I help you today?"),
         ("customer", "You charged me twice this month and I have been on hold for an hour."),
         ("agent", "I'm so sorry about that, let me look into it right away."),
         ("customer", "This is the third time I've called about this, it's ridiculous."),
         ("agent", "I see the duplicate charge and I've refunded it now."),
         ("customer", "Okay, thank you, I really appreciate you sorting it out.")]


def interaction(kind: str, contact: str, seq: int, **fields) -> tuple[str, dict]:
    base = {"event_id": f"{contact}-{seq}", "contact_id": contact, **CONTEXT, "language": "en-US", "sequence": seq,
            "source": "cxpulse", "event_time": T0 + seq * 1000, "ingest_time": T0 + seq * 1000,
            "origin_time": T0 + seq * 1000, "produced_time": T0 + seq * 1000}
    return NS + kind, base | fields


def conversation(contact: str) -> list[tuple[str, dict]]:
    events = [interaction("ContactStarted", contact, 1, reason=None)]
    for turn, (speaker, text) in enumerate(LINES, 1):
        events.append(interaction("Utterance", contact, turn + 1, utterance_id=f"u{turn}", turn=turn, speaker=speaker,
                                  text=text, begin_offset_ms=None, end_offset_ms=None, redactions={}))
    events.append(interaction("ContactEnded", contact, len(LINES) + 2, status="completed", disposition=None,
                              duration_ms=None))
    return events


def send(kafka_settings, runtime, events) -> None:
    serde = SingleObjectSerde()
    topic = runtime.topic(topics.INTERACTIONS)
    produce(kafka_settings, topic, [(v["contact_id"], serde.encode(s, v, topic)) for s, v in events])


def outputs(kafka_settings, runtime, utterances: int, summaries: int):
    serde = SingleObjectSerde()
    scored = consume(kafka_settings, runtime.topic(topics.UTTERANCE_SENTIMENT), utterances, timeout_s=60, settle_s=2)
    contact = consume(kafka_settings, runtime.topic(topics.CONTACT_SENTIMENT), utterances + summaries, timeout_s=60,
                      settle_s=2)
    return [serde.decode(m.value()) for m in scored], [serde.decode(m.value()) for m in contact]


def start_service(kafka_settings, runtime, group: str) -> subprocess.Popen:
    env = os.environ | {"KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
                        "CXPULSE_TOPIC_PREFIX": runtime.topic_prefix, "CXPULSE_HTTP_PORT": "0",
                        "SENTIMENT_GROUP_ID": group, "CXPULSE_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "cxpulse_sentiment"], env=env)


def test_a_scripted_conversation_gives_one_output_per_utterance_and_a_summary(kafka_settings, cx_runtime):
    send(kafka_settings, cx_runtime, conversation("c-1"))
    service = start_service(kafka_settings, cx_runtime, unique_name("sentiment"))
    try:
        scored, contact = outputs(kafka_settings, cx_runtime, 6, 1)
    finally:
        service.send_signal(signal.SIGTERM)
        assert service.wait(30) == 0
    assert [d.value["turn"] for d in scored] == [1, 2, 3, 4, 5, 6]
    by_turn = {d.value["turn"]: d.value for d in scored}
    assert by_turn[2]["label"] == "negative" and by_turn[6]["label"] == "positive"
    assert all(-1 <= d.value["score"] <= 1 and d.value["score5"] == pytest.approx(5 * d.value["score"])
               for d in scored)
    assert {"anger", "frustration", "confusion", "gratitude"} <= set(by_turn[4]["emotions"])
    # Each scored turn carries its embedding, computed once here and reused downstream (routing's phrase retrieval):
    # the very vector the model gives for the text, to int8 precision, with the encoder's version.
    from cxpulse_core.embedding import unpack
    from cxpulse_sentiment.model import SentimentModel

    model = SentimentModel.load()
    expected = model.embed([by_turn[t]["text"] for t in sorted(by_turn)])
    for t, vector in zip(sorted(by_turn), expected, strict=True):
        assert by_turn[t]["embedding"]["encoder"] == model.encoder_version
        assert float(unpack(by_turn[t]["embedding"], 384) @ vector) > 0.999
    updates = [d for d in contact if d.schema.endswith("ContactSentimentUpdate")]
    summaries = [d.value for d in contact if d.schema.endswith("ContactSummary")]
    assert len(updates) == 6 and len(summaries) == 1
    summary = summaries[0]
    assert summary["turns"] == 6 and summary["customer"]["turns"] == 3 and summary["agent"]["turns"] == 3
    assert summary["customer"]["negative_turns"] >= 1
    assert summary["trend"] > 0  # the customer ended better than they started
    assert summary["account_id"] == "acct-1" and summary["status"] == "completed"


def test_a_restart_mid_conversation_loses_and_duplicates_nothing(kafka_settings, cx_runtime):
    events = conversation("c-2")
    group = unique_name("sentiment")
    send(kafka_settings, cx_runtime, events[:4])  # started + 3 utterances
    first = start_service(kafka_settings, cx_runtime, group)
    consume(kafka_settings, cx_runtime.topic(topics.UTTERANCE_SENTIMENT), 3, timeout_s=60)
    first.kill()  # SIGKILL: no flush, no commit, no goodbye
    first.wait(30)
    send(kafka_settings, cx_runtime, events[2:])  # the rest, plus two utterances the producer "retried"
    second = start_service(kafka_settings, cx_runtime, group)
    try:
        scored, contact = outputs(kafka_settings, cx_runtime, 6, 1)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    assert sorted(d.value["turn"] for d in scored) == [1, 2, 3, 4, 5, 6]  # none lost, none twice
    assert len({d.value["event_id"] for d in scored}) == 6
    summaries = [d.value for d in contact if d.schema.endswith("ContactSummary")]
    assert len(summaries) == 1
    assert summaries[0]["turns"] == 6 and summaries[0]["customer"]["turns"] == 3  # state survived the kill


def test_kill_9_under_traffic_and_a_restart_on_the_existing_state_lose_and_duplicate_nothing(
        kafka_settings, cx_runtime, tmp_path):
    """The kill-restart harness (cxpulse_core.testing.process): conversations keep arriving while the service is
    killed and restarted on its consumer group and changelog; every utterance is scored exactly once."""
    serde = SingleObjectSerde()
    topic = cx_runtime.topic(topics.INTERACTIONS)
    events = [e for i in range(50) for e in conversation(f"k-{i}")]
    expected = {derived_id(v["event_id"], "sentiment") for s, v in events if s.endswith("Utterance")}
    summaries = {derived_id(v["event_id"], "contact-summary") for s, v in events if s.endswith("ContactEnded")}
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers, "CXPULSE_TOPIC_PREFIX": cx_runtime.topic_prefix,
           "SENTIMENT_GROUP_ID": unique_name("sentiment"), "CXPULSE_LOG_LEVEL": "WARNING"}
    scored_topic = cx_runtime.topic(topics.UTTERANCE_SENTIMENT)
    contact_topic = cx_runtime.topic(topics.CONTACT_SENTIMENT)
    with ServiceProcess("cxpulse_sentiment", env, tmp_path / "sentiment.log") as service:
        service.start()
        with Traffic(kafka_settings, topic, [(v["contact_id"], serde.encode(s, v, topic)) for s, v in events],
                     rate=40) as traffic:
            wait_until(lambda: len(read_topic(kafka_settings, scored_topic)) >= len(expected) // 4,
                       "a quarter of the utterances scored before the kill")
            ready_s = service.kill_and_restart()
            traffic.wait()
        wait_until(lambda: len(EventTally.read(kafka_settings, scored_topic, serde)) >= len(expected),
                   "every utterance scored after the restart", timeout_s=180)
        assert service.stop() == 0
    scored = EventTally.read(kafka_settings, scored_topic, serde)
    contact = EventTally.read(kafka_settings, contact_topic, serde)
    print(f"\nsentiment: kill -9 under traffic -> ready again in {ready_s:.1f} s; {len(scored)} utterances scored")
    assert scored.lost(expected) == set() and scored.duplicated() == {}
    assert contact.lost(summaries) == set() and contact.duplicated() == {}
