"""Insights killed (-9) under traffic and restarted on its existing outputs: the restart replays every input to
rebuild its views, but writes each quality score and agent figure once (its progress topic, committed in the
same transaction as the outputs, says how far the previous run had written)."""

from __future__ import annotations

from collections import Counter

import pytest
from insights_data import ANGRY, CALM, contact_records

from cxpulse_core import topics
from cxpulse_core.ids import derived_id
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.testing.kafka import unique_name
from cxpulse_core.testing.process import EventTally, ServiceProcess, Traffic, read_topic, wait_until
from cxpulse_insights.settings import AGENTS_TOPIC, QUALITY_TOPIC

pytestmark = pytest.mark.kafka


def test_kill_9_under_traffic_and_a_restart_write_every_output_once(kafka_settings, cx_runtime, tmp_path):
    serde = SingleObjectSerde()
    topic = cx_runtime.topic(topics.CONTACT_SENTIMENT)
    contacts = [(f"k-{i}", f"agent-{i % 4}", ANGRY if i % 3 == 0 else CALM) for i in range(60)]
    # One input topic (updates and summaries), so every summary is read once after its updates, in order.
    records = [(v["contact_id"], serde.encode(s, v, topic)) for c, a, lines in contacts
               for t, s, v in contact_records(c, a, lines) if t == topics.CONTACT_SENTIMENT]
    quality_topic, agents_topic = cx_runtime.topic(QUALITY_TOPIC), cx_runtime.topic(AGENTS_TOPIC)
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers, "CXPULSE_TOPIC_PREFIX": cx_runtime.topic_prefix,
           "INSIGHTS_GROUP_ID": unique_name("insights"), "INSIGHTS_WEB_HOST": "127.0.0.1", "INSIGHTS_WEB_PORT": "0",
           "CXPULSE_LOG_LEVEL": "WARNING", "INSIGHTS_AUTH_TOKEN": "restart-test-token"}
    with ServiceProcess("cxpulse_insights", env, tmp_path / "insights.log") as service:
        service.start()
        with Traffic(kafka_settings, topic, records, rate=40) as traffic:
            wait_until(lambda: len(read_topic(kafka_settings, quality_topic)) >= 15, "quality scores before the kill")
            ready_s = service.kill_and_restart()
            traffic.wait()
        wait_until(lambda: len(EventTally.read(kafka_settings, quality_topic, serde)) >= len(contacts),
                   "every contact scored after the restart", timeout_s=120)
        wait_until(lambda: (service.metric("cxpulse_messages_in_total", service="insights", topic=topic) or 0)
                   >= len(records), "the restarted service replayed every input")
        assert service.stop() == 0
    quality = EventTally.read(kafka_settings, quality_topic, serde)
    agents = EventTally.read(kafka_settings, agents_topic, serde)
    scored = Counter(serde.decode(m.value()).value["contact_id"] for m in read_topic(kafka_settings, quality_topic))
    print(f"\ninsights: kill -9 under traffic -> ready again in {ready_s:.1f} s; {len(quality)} quality scores")
    assert scored == Counter({c: 1 for c, _, _ in contacts})  # each contact scored once: none lost, none twice
    assert quality.duplicated() == {}
    assert agents.lost(derived_id("insights-agent", a, f"sum-{c}") for c, a, _ in contacts) == set()
    assert agents.duplicated() == {}
