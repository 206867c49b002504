"""Every generated event, in both formats, through the project's own ingest validator; Contact Lens events
shaped like the fixtures ingest is tested with."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from cxpulse_core.records import Utterance
from cxpulse_ingest.ingestor import Ingestor, Rejection
from cxpulse_lab.sim import CONTACT_LENS, SimEvent, generate
from cxpulse_lab.sim.formats import event_time_ms, render

FIXTURES = Path(__file__).resolve().parents[2] / "ingest/tests/fixtures/contact_lens"
BASE_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
SOURCE = {"cxpulse": "cxpulse", CONTACT_LENS: "contact-lens"}


@cache
def rendered() -> tuple[tuple[SimEvent, str, bytes, bytes], ...]:
    return tuple((e, *render(e, BASE_MS)) for e in generate(seed=21, rate=20, duration_s=120))


def ingest(events: tuple[tuple[SimEvent, str, bytes, bytes], ...]) -> tuple[Ingestor, list, Counter]:
    ingestor, outputs, verdicts = Ingestor(), [], Counter()
    for event, _topic, _key, value in events:
        at = event_time_ms(event, BASE_MS)
        result = ingestor.process(value, SOURCE[event.format], at, at)
        if isinstance(result, Rejection):
            verdicts[f"{result.reason}:{result.field}:{result.detail}"] += 1
        elif result is None:
            verdicts["duplicate"] += 1
        else:
            outputs += result
    return ingestor, outputs, verdicts


@pytest.mark.parametrize("fmt", ["cxpulse", CONTACT_LENS])
def test_every_event_passes_ingest(fmt: str) -> None:
    events = tuple(r for r in rendered() if r[0].format == fmt)
    assert len(events) > 300
    _ingestor, outputs, verdicts = ingest(events)
    assert not verdicts, verdicts.most_common(5)
    schemas = Counter(type(o).__name__ for o in outputs)
    assert schemas["Utterance"] == sum(e.type == "utterance" for e, *_ in events)
    assert schemas["ContactStarted"] == schemas["ContactEnded"] == len({e.contact_id for e, *_ in events})
    assert {o.contact_id for o in outputs} == {e.contact_id for e, *_ in events}


def test_both_formats_together_redact_pii() -> None:
    ingestor, outputs, verdicts = ingest(rendered())
    assert not verdicts
    assert all(ingestor.counters.redactions.get(kind, 0) >= 5 for kind in ("CARD", "EMAIL", "PHONE"))
    texts = " ".join(o.text for o in outputs if isinstance(o, Utterance))
    assert "[CARD]" in texts and "[EMAIL]" in texts and "[PHONE]" in texts
    assert ingestor.counters.contactlens_utterance_partials > 0
    assert sum(ingestor.counters.contactlens_categories.values()) > 0


def test_cxpulse_events_carry_contact_context() -> None:
    starts = [json.loads(v) for e, _t, _k, v in rendered() if e.format == "cxpulse" and e.type == "contact_started"]
    for doc in starts:
        assert {"event_id", "type", "contact_id", "timestamp", "sequence", "account_id", "customer_id", "queue",
                "channel", "journey_stage", "language"} <= set(doc)
    assert all(doc["timestamp"].endswith("Z") for doc in starts)


def test_topics_and_keys() -> None:
    for event, topic, key, _value in rendered():
        assert topic == ("cx.raw.contact-lens" if event.format == CONTACT_LENS else "cx.raw.contact-events")
        assert key == event.contact_id.encode()


@pytest.mark.parametrize(("channel", "type_", "fixture"), [
    ("voice", "contact_started", "voice_started.json"), ("voice", "utterance", "voice_segments.json"),
    ("voice", "contact_ended", "voice_completed.json"), ("chat", "contact_started", "chat_started.json"),
    ("chat", "utterance", "chat_segments.json"), ("chat", "contact_ended", "chat_completed.json")])
def test_contact_lens_shaped_like_the_fixtures(channel: str, type_: str, fixture: str) -> None:
    expected = json.loads((FIXTURES / fixture).read_text())
    docs = [json.loads(v) for e, _t, _k, v in rendered()
            if e.format == CONTACT_LENS and e.payload["channel"] == channel and e.type == type_]
    assert docs
    for doc in docs:
        assert set(doc) == set(expected)
        assert {k: doc[k] for k in ("Version", "Channel")} == {k: expected[k] for k in ("Version", "Channel")}
    if type_ == "utterance":
        want = next(s["Transcript"] for s in expected["Segments"] if "Transcript" in s)
        for doc in docs:
            transcripts = [s["Transcript"] for s in doc["Segments"] if "Transcript" in s]
            assert len(transcripts) == 1
            assert set(transcripts[0]) <= set(want) | {"IssuesDetected"}
            assert {"Id", "ParticipantRole", "Content"} <= set(transcripts[0])
        kinds = {next(iter(s)) for doc in docs for s in doc["Segments"]}
        assert kinds == ({"Utterance", "Transcript", "Categories"} if channel == "voice"
                         else {"Transcript", "Categories"})
