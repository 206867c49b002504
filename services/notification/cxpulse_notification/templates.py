"""What receivers get: the webhook JSON, the Slack-compatible payload, and the e-mail (subject, plain text and
HTML). Plain functions of the notice; every value placed in HTML is escaped."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from string import Template
from typing import Any

from .notice import Notice

SEVERITY_ICON = {"critical": ":rotating_light:", "warning": ":warning:", "info": ":information_source:"}

TEXT = Template("""\
$severity_upper: $summary

Contact:  $contact_id
Agent:    $agent_id
Queue:    $queue
Team:     $team
Rule:     $rule
Reason:   $reason
Churn:    $churn
When:     $when
$link
Alert id: $alert_id (cxpulse notification)
""")

HTML = Template("""\
<!DOCTYPE html>
<html><body style="font-family: sans-serif">
<h2 style="color: $colour">$severity_upper: $summary</h2>
<table cellpadding="4">
<tr><th align="left">Contact</th><td>$contact_id</td></tr>
<tr><th align="left">Agent</th><td>$agent_id</td></tr>
<tr><th align="left">Queue</th><td>$queue</td></tr>
<tr><th align="left">Team</th><td>$team</td></tr>
<tr><th align="left">Rule</th><td>$rule</td></tr>
<tr><th align="left">Reason</th><td>$reason</td></tr>
<tr><th align="left">Churn</th><td>$churn</td></tr>
<tr><th align="left">When</th><td>$when</td></tr>
</table>
$link
<p style="color: #888">Alert id $alert_id (cxpulse notification)</p>
</body></html>
""")

COLOURS = {"critical": "#b00020", "warning": "#b26a00", "info": "#1a5fb4"}


def fields(notice: Notice, dashboard_url: str = "") -> dict[str, str]:
    d = notice.details
    churn = d.get("churn_probability")
    return {
        "severity_upper": notice.severity.upper(), "summary": notice.summary, "contact_id": notice.contact_id,
        "agent_id": d.get("agent_id") or "-", "queue": d.get("queue") or "-", "team": notice.team,
        "rule": notice.rule, "reason": notice.reason, "churn": "-" if churn is None else f"{churn:.0%}",
        "when": datetime.fromtimestamp(notice.event_time / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "alert_id": notice.alert_id,
        "link": f"{dashboard_url.rstrip('/')}/contacts/{notice.contact_id}" if dashboard_url else "",
    }


def webhook_body(notice: Notice) -> bytes:
    """The generic webhook payload: the notice as JSON (times in ms since the epoch, UTC)."""
    d = notice.details
    payload: dict[str, Any] = {
        "kind": notice.kind, "alert_id": notice.alert_id, "contact_id": notice.contact_id,
        "severity": notice.severity, "team": notice.team, "rule": notice.rule, "summary": notice.summary,
        "reason": notice.reason, "account_id": d.get("account_id"), "agent_id": d.get("agent_id"),
        "queue": d.get("queue"), "channel": d.get("channel"), "journey_stage": d.get("journey_stage"),
        "churn_probability": d.get("churn_probability"), "target_queue": d.get("target_queue"),
        "priority": d.get("priority"), "evidence": d.get("evidence", []),
        "event_time": notice.event_time, "origin_time": notice.origin_time,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def slack_body(notice: Notice, dashboard_url: str = "") -> bytes:
    f = fields(notice, dashboard_url)
    text = f"{SEVERITY_ICON.get(notice.severity, '')} {f['severity_upper']}: {notice.summary}".strip()
    context = f"contact {f['contact_id']} · agent {f['agent_id']} · queue {f['queue']} · rule {f['rule']}"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*\n{notice.reason}"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
    ]
    if f["link"]:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open contact"}, "url": f["link"]}]})
    return json.dumps({"text": text, "blocks": blocks}, separators=(",", ":")).encode()


def email_parts(notice: Notice, subject_prefix: str = "", dashboard_url: str = "") -> tuple[str, str, str]:
    """(subject, plain text, HTML)."""
    f = fields(notice, dashboard_url)
    subject = f"{subject_prefix} [{notice.severity}] {notice.summary}".strip()
    text = TEXT.substitute(f | {"link": f"Open:     {f['link']}\n" if f["link"] else ""})
    escaped = {k: html.escape(v) for k, v in f.items()}
    link = f'<p><a href="{escaped["link"]}">Open contact</a></p>' if f["link"] else ""
    page = HTML.substitute(escaped | {"link": link, "colour": COLOURS.get(notice.severity, "#333")})
    return " ".join(subject.split()), text, page
