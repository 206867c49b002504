"""The insights service through a real broker: upstream records in, quality scores and agent figures out on
their compacted topics, and the HTTP API shows the same data."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import pytest
from insights_data import ANGRY, CALM, alert, churn, contact_records, escalation, guidance, send

from cxpulse_core import topics
from cxpulse_core.schemas import shipped_schemas
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.testing.kafka import consume
from cxpulse_core.testing.net import wait_until
from cxpulse_core.testing.services import start_loop
from cxpulse_insights.app import build
from cxpulse_insights.auth import Auth
from cxpulse_insights.settings import AGENTS_TOPIC, QUALITY_TOPIC, InsightsSettings
from cxpulse_lab.sentiment.training.feedback import load as load_feedback

pytestmark = pytest.mark.kafka


def api(base: str, path: str, headers: dict[str, str] | None = None):
    with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers or {}), timeout=5) as response:
        return json.loads(response.read())


def test_scores_ended_contacts_and_serves_the_views(kafka_settings, cx_runtime):
    records = (contact_records("c-calm", "agent-a", CALM) + contact_records("c-angry", "agent-b", ANGRY)
               + contact_records("c-live", "agent-a", ANGRY[:3], end=False)
               + [escalation("c-angry", "agent-b"), alert("c-live", "agent-a"),
                  churn("acct-c-angry", 0.86, "4 contacts in 7 days"), churn("acct-c-calm", 0.1, "none")])
    # Escalations first: an escalation precedes its contact's summary upstream too.
    send(kafka_settings, cx_runtime, sorted(records, key=lambda r: r[0] != "cx.routing.escalations"))
    settings = InsightsSettings(web_host="127.0.0.1", web_port=0)
    insights = build(settings, cx_runtime)
    web = insights.web(settings).start()
    base = f"http://127.0.0.1:{web.port}"
    try:
        with start_loop(kafka_settings, insights.config, insights.handler):
            # Topics are read in parallel: a summary may come before its escalation, which then rescores it.
            wait_until(lambda: any(q["escalated"] for q in api(base, "/api/quality")), "an escalated contact", 30)
            quality = consume(kafka_settings, cx_runtime.topic(QUALITY_TOPIC), 2, timeout_s=30, settle_s=1)
            agents = consume(kafka_settings, cx_runtime.topic(AGENTS_TOPIC), 2, timeout_s=30, settle_s=1)
            active = wait_until(lambda: [c for c in api(base, "/api/contacts/active") if c["alerts"]],
                                "an alerted contact", 30)
            at_risk = wait_until(lambda: api(base, "/api/accounts/at-risk"), "an account at risk", 30)
            journey, escalations = api(base, "/api/journey"), api(base, "/api/escalations")
    finally:
        web.stop()
    serde = SingleObjectSerde()
    scores = {m.key().decode(): serde.decode(m.value()).value for m in quality}  # the latest per key, as compacted
    assert set(scores) == {"c-calm", "c-angry"}
    calm, angry = scores["c-calm"], scores["c-angry"]
    assert calm["score"] > 80 > 50 > angry["score"]
    assert angry["escalated"] and angry["stressful"] and not angry["de_escalated"]
    assert {"low_score", "unresolved_escalation"} <= set(angry["review_reasons"]) and not calm["review"]
    figures = {m.key().decode(): serde.decode(m.value()).value for m in agents}
    assert figures["agent-b"]["stressful_contacts"] == 1 and figures["agent-b"]["de_escalation_rate"] == 0.0
    assert figures["agent-b"]["flagged_for_review"] == 1 and figures["agent-a"]["flagged_for_review"] == 0
    assert [c["contact_id"] for c in active] == ["c-live"] and active[0]["alerts"][0]["rule"] == "anger_spike"
    assert [a["account_id"] for a in at_risk] == ["acct-c-angry"]
    assert escalations[0]["contact_id"] == "c-angry"
    billing = next(c for c in journey if c["stage"] == "billing" and c["channel"] == "voice")
    assert billing["contacts"] == 2 and billing["dropped"] == 1  # the angry customer went from -0.4 to -0.9


ANA = {"Authorization": "Basic " + base64.b64encode(b"ana:pass-of-ana").decode()}


def post(base: str, path: str, body: dict, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"} | (headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_drilldown_and_a_correction_lands_on_the_feedback_topic(kafka_settings, cx_runtime, monkeypatch):
    records = [*contact_records("c-angry", "agent-b", ANGRY), guidance("c-angry", "agent-b", 2),
               escalation("c-angry", "agent-b"), churn("acct-c-angry", 0.86, "4 contacts in 7 days")]
    send(kafka_settings, cx_runtime, records)
    settings = InsightsSettings(web_host="127.0.0.1", web_port=0)
    insights = build(settings, cx_runtime)
    web = insights.web(settings, kafka_settings, Auth({"ana": b"pass-of-ana"})).start()
    base = f"http://127.0.0.1:{web.port}"
    try:
        with start_loop(kafka_settings, insights.config, insights.handler):
            detail = wait_until(lambda: (d := _maybe(base, "/api/contacts/c-angry")) and d["quality"] and d["churn"]
                                and d["escalations"] and d["guidance"] and len(d["turns"]) == len(ANGRY) and d,
                                "c-angry's full drill-down", 30)
            turn3 = {"contact_id": "c-angry", "turn": 3, "label": "neutral"}
            assert post(base, "/api/corrections", turn3)[0] == 401  # no credentials, nothing produced
            status, correction = post(base, "/api/corrections", turn3, ANA)
            assert status == 201, correction
            assert post(base, "/api/corrections", turn3 | {"turn": 99}, ANA)[0] == 404
            assert post(base, "/api/corrections", turn3 | {"label": "angry"}, ANA)[0] == 400
            after = api(base, "/api/contacts/c-angry", ANA)
    finally:
        web.stop()
    assert detail["status"] == "ended" and detail["turns"][2]["text"] == "This is ridiculous."
    assert detail["turns"][1]["guidance"][0]["phrases"] == ["I'm sorry, let me fix that right now."]
    assert detail["turns"][2]["escalations"][0]["target_queue"] == "retention"
    assert {c["name"] for c in detail["quality"]["criteria"]} >= {"trajectory", "escalation_handling"}
    assert detail["churn"]["reasons"] == ["4 contacts in 7 days"]
    [message] = consume(kafka_settings, cx_runtime.topic(topics.FEEDBACK_LABELS), 1, timeout_s=30)
    decoded = SingleObjectSerde().decode(message.value())
    assert message.key() == b"c-angry" and decoded.schema == "io.cxpulse.feedback.LabelCorrection"
    stored = decoded.value
    assert stored == correction and stored["text"] == "This is ridiculous." and stored["turn"] == 3
    assert (stored["model_label"], stored["corrected_label"], stored["model_version"]) == ("negative", "neutral",
                                                                                           "test")
    assert stored["corrected_by"] == "ana" and stored["event_time"] >= stored["utterance_time"]
    assert shipped_schemas()["io.cxpulse.feedback.LabelCorrection"].name == decoded.schema
    assert after["turns"][2]["corrections"][0]["event_id"] == stored["event_id"]
    # Training reads the same corrections back from the topic (cxpulse train sentiment --feedback TOPIC).
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_settings.bootstrap_servers)
    monkeypatch.setenv("CXPULSE_TOPIC_PREFIX", cx_runtime.topic_prefix)
    feedback = load_feedback(topics.FEEDBACK_LABELS)
    assert feedback.split().texts == ["This is ridiculous."] and feedback.report()["by_label"] == {"neutral": 1}
    assert feedback.report()["rejected"] == 0


def _maybe(base: str, path: str):
    try:
        return api(base, path, ANA)
    except urllib.error.HTTPError:
        return None
