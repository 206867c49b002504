import json
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from notification_testdata import alert_value

from cxpulse_core.records import ContactStarted, Escalation, SupervisorAlert
from cxpulse_notification.email import build_message
from cxpulse_notification.notice import to_notice
from cxpulse_notification.routes import RoutesError, Target, load_router
from cxpulse_notification.settings import EXAMPLE_ROUTES
from cxpulse_notification.templates import email_parts, slack_body, webhook_body

ENV = {"HOOK_SECRET": "s3cret", "SLACK_URL": "https://hooks.slack.invalid/T/B/x"}
GOOD = """
recipients:
  hook: {type: webhook, url: "http://127.0.0.1:9/h", secret_env: HOOK_SECRET}
  chat: {type: slack, url_env: SLACK_URL}
  leads: {type: email, to: [a@example.com, b@example.com]}
routes:
  - name: billing-critical
    match: {kind: alert, team: billing, severity: [critical, warning]}
    notify: [hook, chat, leads, hook]
  - name: default
    notify: [hook]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routes.yaml"
    path.write_text(text)
    return path


def test_first_matching_route_wins_and_email_fans_out_per_address(tmp_path):
    router = load_router(write(tmp_path, GOOD), ENV)
    facts = {"kind": "alert", "team": "billing", "rule": "anger_spike", "severity": "critical"}
    targets = router.route(facts)
    assert [(t.channel, t.recipient) for t in targets] == [
        ("webhook", "hook"), ("slack", "chat"), ("email", "a@example.com"), ("email", "b@example.com")]
    assert targets[1].url == ENV["SLACK_URL"] and targets[1].secret is None
    assert targets[0].secret.get_secret_value() == "s3cret"
    assert [t.recipient for t in router.route(facts | {"severity": "info"})] == ["hook"]
    assert "s3cret" not in repr(targets) and "slack.invalid" not in repr(targets)


def test_example_routes_file_is_valid():
    router = load_router(EXAMPLE_ROUTES, {"CXPULSE_WEBHOOK_SECRET": "x"})
    assert router.route({"kind": "alert", "team": "sales", "rule": "r", "severity": "info"})


@pytest.mark.parametrize(("text", "message"), [
    ("recipients: {}\nroutes: []", "recipients"),
    ("recipients: {h: {type: webhook, url: 'http://x', secret_env: S}}\nroutes: [{notify: [nope]}]",
     "unknown recipients ['nope']"),
    ("recipients: {h: {type: webhook, url: 'http://x'}}\nroutes: [{notify: [h]}]", "needs secret_env"),
    ("recipients: {h: {type: pager, url: 'http://x'}}\nroutes: [{notify: [h]}]", "h"),
    ("recipients: {h: {type: webhook, url: 'ftp://x', secret_env: S}}\nroutes: [{notify: [h]}]", "http://"),
    ("recipients: {m: {type: email, to: [nobody]}}\nroutes: [{notify: [m]}]", "not e-mail addresses"),
    ("recipients: {m: {type: email, to: [a@b.c]}}\nroutes: [{match: {severity: urgent}, notify: [m]}]",
     "severity: unknown ['urgent']"),
    ("recipients: {m: {type: email, to: [a@b.c], colour: red}}\nroutes: [{notify: [m]}]", "colour"),
    ("recipients: {h: {type: webhook, url: 'http://x', secret_env: MISSING}}\nroutes: [{notify: [h]}]",
     "MISSING (its signing secret) is not set"),
    ("recipients: [", "not valid YAML"),
])
def test_invalid_routing_files_fail_with_a_clear_message(tmp_path, text, message):
    with pytest.raises(RoutesError, match="routing file") as info:
        load_router(write(tmp_path, text), {"S": "x"})
    assert message in str(info.value)


def test_missing_routing_file(tmp_path):
    with pytest.raises(RoutesError, match="cannot read"):
        load_router(tmp_path / "nope.yaml", {})


def test_payloads_and_templates():
    notice = to_notice(SupervisorAlert.from_dict(alert_value()))
    body = json.loads(webhook_body(notice))
    assert body["alert_id"] == "a-1" and body["severity"] == "critical" and body["churn_probability"] == 0.71
    slack = json.loads(slack_body(notice, "https://cx.example.com"))
    assert "CRITICAL" in slack["text"] and slack["blocks"][-1]["elements"][0]["url"].endswith("/contacts/c-5001")
    subject, text, html = email_parts(notice, "[cxpulse]")
    assert subject == "[cxpulse] [critical] Angry customer on c-5001"
    assert "Reason:   anger 0.82 > 0.7 <script>" in text and "Churn:    71%" in text
    assert "&lt;script&gt;" in html and "<script>" not in html  # values are escaped in HTML


def test_email_message_is_multipart_alternative():
    notice = to_notice(SupervisorAlert.from_dict(alert_value()))
    raw = build_message(notice, Target("email", "lead@example.com"), "cx <a@b.c>").as_bytes()
    message = message_from_bytes(raw, policy=default_policy)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["To"] == "lead@example.com" and message["X-Cxpulse-Alert-Id"] == "a-1"


def test_escalations_become_notices():
    value = alert_value() | {"priority": 2, "target_queue": "retention", "event_id": "x-1", "queue": None}
    notice = to_notice(Escalation.from_dict(value))
    assert (notice.kind, notice.alert_id, notice.severity, notice.team) == ("escalation", "x-1", "warning", "default")
    with pytest.raises(ValueError, match="unexpected record type"):
        to_notice(ContactStarted.from_dict(value | {"sequence": 1, "source": "cxpulse", "ingest_time": 1}))
