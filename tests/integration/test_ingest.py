"""Ingest through a real broker: both input formats, every kind of bad input, dedup, per-contact order, no PII."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cxpulse_core import topics
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.testing.kafka import consume, headers_of, produce, values
from cxpulse_core.testing.services import start_loop
from cxpulse_ingest.app import build
from cxpulse_ingest.settings import IngestSettings

pytestmark = pytest.mark.kafka
REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "services/ingest/tests/fixtures/contact_lens"
CARD = "4111 1111 1111 1111"


def event(i: int, kind: str, contact: str = "c-1", **fields) -> dict:
    base = {"event_id": f"{contact}-e{i}", "type": kind, "contact_id": contact, "sequence": i,
            "timestamp": f"2026-11-26T10:00:{i:02d}Z"}
    return base | fields


def conversation(contact: str) -> list[dict]:
    return [
        event(1, "contact_started", contact, account_id="acct-9", agent_id="ag-1", queue="billing", channel="voice"),
        event(2, "utterance", contact, speaker="agent", text="Thanks for calling, how can I help?"),
        event(3, "utterance", contact, speaker="customer", text=f"You charged my card {CARD} twice."),
        event(4, "utterance", contact, speaker="customer", text="Email me at jane.doe@example.com or +44 20 7946 0958"),
        event(5, "contact_ended", contact, status="completed"),
    ]


def encoded(events: list[dict]) -> list[tuple[str, bytes]]:
    return [(e.get("contact_id", ""), json.dumps(e).encode()) for e in events]


def run_ingest(kafka_settings, runtime, **settings):
    config, handler = build(IngestSettings(**settings), runtime, kafka_settings)
    return start_loop(kafka_settings, config, handler)


def test_raw_contract_events_come_out_normalized_ordered_and_redacted(kafka_settings, cx_runtime):
    contacts = [f"c-{n}" for n in range(4)]
    records = [r for c in contacts for r in encoded(conversation(c))]
    produce(kafka_settings, cx_runtime.topic(topics.RAW_EVENTS), records)
    with run_ingest(kafka_settings, cx_runtime):
        out = consume(kafka_settings, cx_runtime.topic(topics.INTERACTIONS), 20, timeout_s=30, settle_s=1)
    assert len(out) == 20
    serde = SingleObjectSerde()
    decoded = [serde.decode(m.value()) for m in out]
    for contact in contacts:
        mine = [d for d in decoded if d.value["contact_id"] == contact]
        assert [d.schema.rsplit(".", 1)[-1] for d in mine] == ["ContactStarted", "Utterance", "Utterance",
                                                                "Utterance", "ContactEnded"]
        assert [d.value["sequence"] for d in mine] == [1, 2, 3, 4, 5]
        utterances = [d.value for d in mine if d.schema.endswith("Utterance")]
        assert [u["turn"] for u in utterances] == [1, 2, 3]
        assert utterances[1]["account_id"] == "acct-9"  # context inherited from contact_started
        assert "[CARD]" in utterances[1]["text"] and utterances[1]["redactions"] == {"CARD": 1}
        assert "[EMAIL]" in utterances[2]["text"] and "[PHONE]" in utterances[2]["text"]
    everything = b"".join(m.value() for m in out)
    for secret in (b"4111", b"jane.doe", b"7946"):
        assert secret not in everything
    assert {m.key() for m in out} == {c.encode() for c in contacts}


def test_contact_lens_segment_streams_are_normalized(kafka_settings, cx_runtime):
    names = ["voice_started.json", "voice_segments.json", "voice_completed.json"]
    docs = [json.loads((FIXTURES / n).read_text()) for n in names]
    produce(kafka_settings, cx_runtime.topic(topics.RAW_CONTACT_LENS),
            [(d["ContactId"], json.dumps(d).encode()) for d in docs])
    with run_ingest(kafka_settings, cx_runtime):
        out = values(consume(kafka_settings, cx_runtime.topic(topics.INTERACTIONS), 3, timeout_s=30, settle_s=1),
                     SingleObjectSerde())
    assert out[0]["source"] == "contact-lens"
    assert {o["contact_id"] for o in out} == {docs[0]["ContactId"]}
    texts = [o["text"] for o in out if "text" in o]
    assert texts and all(t.strip() for t in texts)
    assert out[-1]["status"] == "completed"


BAD = [
    (b"\xff\xfe not utf-8", "invalid_utf8"),
    (b'{"event_id": "x"', "invalid_json"),
    (json.dumps(event(1, "utterance", speaker="customer", text=7)).encode(), "wrong_type"),
    (json.dumps({"type": "utterance", "contact_id": "c", "timestamp": "2026-11-26T10:00:00Z"}).encode(),
     "missing_field"),
    (json.dumps(event(1, "hold_music")).encode(), "unknown_event_type"),
    (json.dumps(event(1, "utterance", speaker="customer", text="x" * 3000)).encode(), "oversized"),
]


def test_every_kind_of_bad_input_lands_in_the_deadletter_topic_with_its_reason(kafka_settings, cx_runtime):
    good = conversation("c-ok")
    late = event(3, "utterance", "c-ok", speaker="customer", text="late") | {"event_id": "c-ok-late"}
    records = encoded(good[:4]) + [("c-bad", raw) for raw, _ in BAD] + encoded([late]) + encoded(good[4:])
    produce(kafka_settings, cx_runtime.topic(topics.RAW_EVENTS), records)
    with run_ingest(kafka_settings, cx_runtime, max_bytes=2048):
        out = consume(kafka_settings, cx_runtime.topic(topics.INTERACTIONS), 5, timeout_s=30)
        dead = consume(kafka_settings, cx_runtime.topic(topics.deadletter("ingest")), len(BAD) + 1, timeout_s=30,
                       settle_s=1)
    assert len(out) == 5  # the good ones all went through
    reasons = [headers_of(m)["cxpulse.error.reason"] for m in dead]
    assert reasons == [reason for _, reason in BAD] + ["out_of_order"]
    assert [m.value() for m in dead[:len(BAD)]] == [raw for raw, _ in BAD]  # originals kept byte for byte
    wrong_type = headers_of(dead[2])["cxpulse.error.message"]
    assert "text" in wrong_type and "str" in wrong_type  # which field, what was expected


def test_producer_retries_are_deduplicated(kafka_settings, cx_runtime):
    records = encoded(conversation("c-dup"))
    produce(kafka_settings, cx_runtime.topic(topics.RAW_EVENTS), records + records[1:3])
    with run_ingest(kafka_settings, cx_runtime):
        out = consume(kafka_settings, cx_runtime.topic(topics.INTERACTIONS), 5, timeout_s=30, settle_s=2)
    assert [m.value() is not None for m in out].count(True) == 5


def test_raw_events_may_arrive_as_avro(kafka_settings, cx_runtime):
    serde = SingleObjectSerde()
    fields = [f["name"] for f in serde.schemas["io.cxpulse.raw.RawContactEvent"].source["fields"]]
    rows = [{name: e.get(name) for name in fields} | {"sequence": e["sequence"]} for e in conversation("c-avro")]
    produce(kafka_settings, cx_runtime.topic(topics.RAW_EVENTS),
            [("c-avro", serde.encode("io.cxpulse.raw.RawContactEvent", r)) for r in rows])
    with run_ingest(kafka_settings, cx_runtime):
        out = values(consume(kafka_settings, cx_runtime.topic(topics.INTERACTIONS), 5, timeout_s=30), serde)
    assert [o["sequence"] for o in out] == [1, 2, 3, 4, 5]
    assert "[CARD]" in out[2]["text"]
