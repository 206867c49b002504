"""End to end on the real broker: simulator -> ingest -> sentiment -> churn-scoring / routing -> notification,
every service its own process; assertions on what comes out of the topics and what the receivers got."""

from __future__ import annotations

import base64
import re

import pytest

from cxpulse_core import topics
from cxpulse_core.ids import now_ms
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.testing.kafka import consume
from cxpulse_core.testing.net import wait_until
from cxpulse_core.testing.receivers import WebhookReceiver
from cxpulse_lab.sim.pipeline import Pipeline, isolated_env, webhook_routes_file
from cxpulse_lab.sim.scenario import generate
from cxpulse_lab.sim.simulate import produce_events
from cxpulse_lab.sim.watch import PipelineWatch

pytestmark = pytest.mark.kafka
SECRET = "e2e-webhook-secret"
PII = [re.compile(rb"[\w.+-]+@[\w-]+\.[\w.]+"),  # e-mail
       re.compile(rb"\b(?:\d[ -]?){13,19}\b"),  # card-like digit runs
       re.compile(rb"\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}")]  # phone numbers


def pii_in(texts: list[str]) -> set[bytes]:
    return {m.group(0) for text in texts for pattern in PII for m in pattern.finditer(text.encode())}


@pytest.fixture
def run(kafka_settings, cx_runtime, tmp_path):
    webhook = WebhookReceiver(SECRET).start()
    routes = webhook_routes_file(tmp_path, webhook.port)
    env = isolated_env(cx_runtime.topic_prefix, tmp_path) | {
        "CXPULSE_WEBHOOK_SECRET": SECRET, "NOTIFICATION_ROUTES_FILE": str(routes), "CXPULSE_LOG_LEVEL": "WARNING"}
    pipeline = Pipeline(kafka_settings.bootstrap_servers, tmp_path / "logs", cx_runtime.topic_prefix, base_port=0,
                        env=env)
    since = now_ms()
    watch = PipelineWatch(kafka_settings, cx_runtime, SingleObjectSerde(), since)
    try:
        pipeline.start()
        pipeline.wait_ready(180)
        watch.start()
        events = generate(seed=11, rate=6, duration_s=45)  # the scripted contacts and random traffic
        produce_events(events, kafka_settings, cx_runtime, speed=3.0)

        def outputs_landed() -> bool:  # every scripted contact summarized, its risk rescored, an alert delivered
            pipeline.check_alive()
            done = {s["contact_id"] for s in watch.summaries}
            churn = watch.risk_latest.get("acct-script-churn", {}).get("contacts_seen", 0)
            decided = {e["contact_id"] for e in watch.escalations} | {a["contact_id"] for a in watch.alerts}
            delivered = {r["body"].get("contact_id") for r in webhook.received}
            return ({"c-script-escalating", "c-script-calm", "c-script-churn-4"} <= done and churn >= 4
                    and bool(delivered & decided))

        wait_until(outputs_landed, "the scripted contacts' summaries, churn risk and a delivered alert", 120, 1.0)
        yield watch, webhook, events
    finally:
        watch.stop()
        codes = pipeline.stop()
        webhook.stop()
    assert all(code == 0 for code in codes.values()), codes  # every service stopped cleanly on SIGTERM


def test_the_pipeline_end_to_end(run, kafka_settings, cx_runtime, java_tools):
    watch, webhook, events = run
    escalated = {e["contact_id"] for e in watch.escalations}
    alerted = {a["contact_id"] for a in watch.alerts}
    assert "c-script-escalating" in escalated  # the escalating scripted call escalates ...
    assert "c-script-calm" not in escalated and "c-script-calm" not in alerted  # ... the calm one does not
    first, latest = watch.risk_first["acct-script-churn"], watch.risk_latest["acct-script-churn"]
    assert latest["contacts_seen"] == 4 and latest["probability"] > first  # risk rises for the repeat complainer
    assert webhook.received and webhook.rejected == 0  # the alerts reach a webhook receiver, correctly signed
    assert {r["body"].get("contact_id") for r in webhook.received} & (escalated | alerted)
    # No PII reaches any downstream topic: the card numbers, e-mails and phone numbers the simulator put into
    # customer turns appear nowhere after ingest.
    texts = [e.payload.get("text", "") for e in events if isinstance(e.payload, dict)]
    planted = pii_in(texts)
    assert planted, "the simulator planted no PII: this check would prove nothing"
    downstream = [topics.INTERACTIONS, topics.UTTERANCE_SENTIMENT, topics.CONTACT_SENTIMENT, topics.ALERTS,
                  topics.ESCALATIONS, topics.GUIDANCE, topics.NOTIFICATION_LOG, topics.CHURN_RISK]
    for topic in downstream:
        blob = b"".join(m.value() or b"" for m in consume(kafka_settings, cx_runtime.topic(topic), 10 ** 9,
                                                          timeout_s=4))
        leaked = [p for p in planted if p in blob]
        assert not leaked, f"PII reached {topic}"
    assert watch.redactions  # ... because ingest redacted it
    # What the services wrote reads the same from a stock JVM consumer (kafka-clients + Avro's BinaryMessageDecoder,
    # read_committed) as from Python: every field of every record (tests/java, tests/xlang).
    serde = SingleObjectSerde()
    readers = {topics.CHURN_RISK: "io.cxpulse.churn.ChurnRisk", topics.ESCALATIONS: "io.cxpulse.routing.Escalation",
               topics.UTTERANCE_SENTIMENT: "io.cxpulse.sentiment.UtteranceSentiment"}
    written = {}
    for topic in readers:
        messages = consume(kafka_settings, cx_runtime.topic(topic), 10 ** 9, timeout_s=4)
        assert messages, topic
        written |= {(m.topic(), m.partition(), m.offset()): (m.key().decode(), _base64(serde.decode(m.value()).value))
                    for m in messages}
    expected = {cx_runtime.topic(t): (schema, sum(1 for k in written if k[0] == cx_runtime.topic(t)))
                for t, schema in readers.items()}
    result, lines = java_tools.read_topics(kafka_settings.bootstrap_servers, expected)
    assert result.returncode == 0, result.stderr
    read = {(line["topic"], line["partition"], line["offset"]): (line["key"], line["value"]) for line in lines}
    assert read == written


def _base64(value: object) -> object:
    """Bytes (the utterance embedding) as base64 text, the way the JVM reader prints them."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _base64(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_base64(v) for v in value]
    return value
