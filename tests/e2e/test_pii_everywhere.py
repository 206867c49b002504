"""No PII survives anywhere (issue 13): 33 adversarial PII forms, plus generated card variants, go through the whole
pipeline (every service its own process, a real webhook receiver). Afterwards every topic but the raw inputs (the
dead-letter topics included), every service log, the insights page, its API and SSE snapshot, and every webhook
body are searched for each form, verbatim and with separators stripped."""

from __future__ import annotations

import json
import random
import re
import urllib.parse
import urllib.request

import pytest
from confluent_kafka.admin import AdminClient

from cxpulse_core import topics
from cxpulse_core.testing.kafka import consume, produce
from cxpulse_core.testing.net import free_port, wait_until
from cxpulse_core.testing.receivers import WebhookReceiver
from cxpulse_lab.sim.pipeline import Pipeline, isolated_env, webhook_routes_file

pytestmark = pytest.mark.kafka
SECRET = "pii-webhook-secret"
ANGRY = "This is absolutely unacceptable, I am furious and I want to cancel everything right now."

# (text said by the customer, what must not appear anywhere downstream)
FORMS: list[tuple[str, list[str]]] = [
    ("my card is 4556737586899855 ok", ["4556737586899855"]),
    ("card 4556 7375 8689 9855 please", ["4556737586899855"]),
    ("it is 4556-7375-8689-9855", ["4556737586899855"]),
    ("number 4556/7375/8689/9855", ["4556737586899855"]),
    ("number 4556_7375_8689_9855", ["4556737586899855"]),
    ("number 4556 - 7375 - 8689 - 9855", ["4556737586899855"]),
    ("number 4556  7375  8689  9855", ["4556737586899855"]),
    ("full width ４５５６ ７３７５ ８６８９ ９８５５", ["４５５６", "4556737586899855"]),
    ("card four five five six seven three seven five eight six eight nine nine eight five five",
     ["four five five six seven three seven five"]),
    ("dictated 4 5 5 6 7 3 7 5 8 6 8 9 9 8 5 5", ["4556737586899855"]),
    ("card 4556, 7375, 8689, 9855", ["4556737586899855"]),
    ("amex 3782.822463.10005", ["378282246310005"]),
    ("the security code is 847", ["code is 847"]),
    ("my IBAN is GB82 WEST 1234 5698 7654 32", ["GB82WEST12345698765432"]),
    ("iban DE89370400440532013000 thanks", ["DE89370400440532013000"]),
    ("ssn 536-22-8147", ["536228147"]),
    ("my social is 536228147", ["536228147"]),
    ("social security five three six two two eight one four seven", ["five three six two two"]),
    ("my NI number is AB 12 34 56 C", ["AB123456C"]),
    ("I was born on 14/07/1983", ["14071983"]),
    ("date of birth is July 14, 1983", ["July 14, 1983"]),
    ("write to jane.whitfield@example.com", ["jane.whitfield@example", "whitfield@"]),
    ("it is jane dot whitfield at example dot com", ["jane dot whitfield"]),
    ("call me on 07700 900123", ["07700900123"]),
    ("or +44 7700 900456", ["447700900456"]),
    ("office (415) 555-0132", ["4155550132"]),
    ("mobile oh seven seven double oh nine double oh four five six", ["seven seven double oh nine"]),
    ("use extension 4521", ["extension 4521"]),
    ("my name is Jane Whitfield", ["Whitfield"]),
    ("I live at 14 Maple Grove Road", ["Maple Grove"]),
    ("postcode SW1A 2AA", ["SW1A"]),
    ("Germany +49 30 12345678", ["493012345678"]),
]
SPLIT = ("my card number is 4916 3385", "0608 3830")  # 4916338506083830, read out over two turns
SPLIT_NEEDLES = ["4916338506083830", "49163385 06083830"]
ACCOUNT = "536-22-8147"  # an SSN used as an account id: must come out hashed


def luhn_card(rng: random.Random) -> str:
    body = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(14)]
    for check in range(10):
        digits = [*body, check]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
        if total % 10 == 0:
            return "".join(map(str, digits))
    raise AssertionError


def variants(n: int) -> list[tuple[str, list[str]]]:
    rng = random.Random(13)
    out = []
    for _ in range(n):
        card = luhn_card(rng)
        sep = rng.choice([" ", "-", "/", "_", " - ", "  ", ".", ", "])
        out.append((f"the card is {sep.join(card[i:i + 4] for i in range(0, 16, 4))} thanks", [card]))
    return out


def contact(n: int, lines: list[str]) -> list[dict]:
    cid = f"pii-{n}"
    events = [{"event_id": f"{cid}-0", "type": "contact_started", "contact_id": cid, "sequence": 0,
               "timestamp": "2026-11-26T10:00:00Z", "account_id": ACCOUNT, "agent_id": "ag-7", "queue": "billing"}]
    for i, text in enumerate(lines, 1):
        events.append({"event_id": f"{cid}-{i}", "type": "utterance", "contact_id": cid, "sequence": i,
                       "timestamp": f"2026-11-26T10:{i // 60:02d}:{i % 60:02d}Z", "speaker": "customer",
                       "text": text})
    events.append({"event_id": f"{cid}-end", "type": "contact_ended", "contact_id": cid, "sequence": len(lines) + 1,
                   "timestamp": "2026-11-26T10:30:00Z", "status": "completed"})
    return events


TOKEN = "pii-dashboard-token"  # the dashboard needs credentials (INSIGHTS_AUTH_TOKEN)
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def get(url: str) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, headers=AUTH), timeout=10) as reply:
        return reply.read()


def sse_snapshot(url: str) -> bytes:
    """The stream's first event (the snapshot of every view): lines up to the first blank line after data."""
    lines = []
    with urllib.request.urlopen(urllib.request.Request(url, headers=AUTH), timeout=10) as reply:
        while True:
            line = reply.readline()
            lines.append(line)
            if not line or (line.strip() == b"" and any(x.startswith(b"data:") for x in lines)):
                return b"".join(lines)


def stripped(text: str) -> str:
    return re.sub(r"[\s\-/_.,()+]", "", text)


def test_no_pii_form_survives_anywhere(kafka_settings, cx_runtime, tmp_path):
    forms = FORMS + variants(40)
    assert len(FORMS) >= 30
    webhook = WebhookReceiver(SECRET).start()
    routes = webhook_routes_file(tmp_path, webhook.port)
    web_port = free_port()
    env = isolated_env(cx_runtime.topic_prefix, tmp_path) | {
        "CXPULSE_WEBHOOK_SECRET": SECRET, "NOTIFICATION_ROUTES_FILE": str(routes), "INSIGHTS_WEB_PORT": str(web_port),
        "INGEST_ID_HASH_KEY": "test-id-key", "CXPULSE_LOG_LEVEL": "INFO", "INSIGHTS_AUTH_TOKEN": TOKEN}
    pipeline = Pipeline(kafka_settings.bootstrap_servers, tmp_path / "logs", cx_runtime.topic_prefix, base_port=0,
                        env=env)
    texts = [f"{ANGRY} {text}" for text, _ in forms]
    events = [e for n, start in enumerate(range(0, len(texts), 6))
              for e in contact(n, [*texts[start:start + 6], ANGRY])]
    events += contact(999, [f"{ANGRY} {SPLIT[0]}", SPLIT[1], ANGRY])
    bad = [{"event_id": "bad-1", "type": "utterance", "contact_id": "pii-bad", "timestamp": "²",
            "speaker": "customer", "text": "card 4556 7375 8689 9855, ssn 536-22-8147"},
           {"event_id": "bad-2", "type": "utterance", "contact_id": "pii-bad", "timestamp": "2026-11-26T10:00:00Z",
            "speaker": "narrator", "text": "write to jane.whitfield@example.com or 07700 900123"}]
    utterances = sum(e["type"] == "utterance" for e in events)
    try:
        pipeline.start()
        pipeline.wait_ready(180)
        produce(kafka_settings, cx_runtime.topic(topics.RAW_EVENTS),
                [(e["contact_id"], json.dumps(e).encode()) for e in events + bad])
        every_contact = {e["contact_id"] for e in events}

        def landed() -> bool:  # every utterance scored, an alert delivered, every contact on the dashboard
            pipeline.check_alive()
            scored[:] = consume(kafka_settings, cx_runtime.topic(topics.UTTERANCE_SENTIMENT), utterances, timeout_s=5)
            shown = {q["contact_id"] for q in json.loads(get(f"http://127.0.0.1:{web_port}/api/quality"))}
            return len(scored) >= utterances and bool(webhook.received) and every_contact <= shown

        scored: list = []
        wait_until(landed, "every utterance scored, an alert delivered and every contact's quality shown", 180)
        pages = [get(f"http://127.0.0.1:{web_port}{path}") for path in
                 ("/", "/api/contacts/active", "/api/alerts", "/api/escalations", "/api/agents", "/api/journey",
                  "/api/accounts/at-risk", "/api/quality")]
        pages.append(sse_snapshot(f"http://127.0.0.1:{web_port}/api/events"))
        # The drill-down shows each contact's transcript: every scored contact's, and the trends.
        contacts = {q["contact_id"] for q in json.loads(pages[-2])}
        pages += [get(f"http://127.0.0.1:{web_port}/api/contacts/{urllib.parse.quote(c)}") for c in sorted(contacts)]
        pages.append(get(f"http://127.0.0.1:{web_port}/api/trends?window=day"))
        assert contacts and all(b'"turns"' in page for page in pages[-len(contacts) - 1:-1])
    finally:
        pipeline.stop()
        webhook.stop()
    assert len(scored) >= utterances and webhook.received

    admin = AdminClient(kafka_settings.client_config())
    names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(cx_runtime.topic_prefix)
             and ".raw." not in t]  # the raw inputs hold PII by definition
    haystacks: dict[str, str] = {}
    for name in names:
        messages = consume(kafka_settings, name, 10**9, timeout_s=3)
        haystacks[name] = "\n".join((m.value() or b"").decode("utf-8", "replace") + " "
                                    + " ".join((v or b"").decode("utf-8", "replace") for _, v in m.headers() or [])
                                    + " " + (m.key() or b"").decode("utf-8", "replace") for m in messages)
    assert haystacks[cx_runtime.topic(topics.deadletter("ingest"))].count("cxpulse.error") == 0  # header values only
    assert len(consume(kafka_settings, cx_runtime.topic(topics.deadletter("ingest")), 2, timeout_s=5)) >= 2
    for log in (tmp_path / "logs").iterdir():
        haystacks[f"log {log.name}"] = log.read_text(errors="replace")
    for i, page in enumerate(pages):
        haystacks[f"page {i}"] = page.decode("utf-8", "replace")
    haystacks["webhooks"] = json.dumps([r["body"] for r in webhook.received], ensure_ascii=False)

    needles = [n for _, ns in forms for n in ns] + SPLIT_NEEDLES + [ACCOUNT, "536228147"]
    found = []
    for where, text in haystacks.items():
        flat = stripped(text)
        for needle in needles:
            if needle in text or (len(stripped(needle)) >= 7 and stripped(needle) in flat):
                found.append((where, needle))
    assert not found, found[:20]
    interactions = haystacks[cx_runtime.topic(topics.INTERACTIONS)]
    assert "[CARD]" in interactions and "h-" in interactions  # it ran through redaction and id hashing
