from __future__ import annotations

import pytest
from ingest_testdata import FIXTURES, load_contact_lens

from cxpulse_ingest.contactlens import adapt
from cxpulse_ingest.raw_event import Rejected

T0 = 1_714_559_400_000
CONTACT = "a1b2c3d4-5678-90ab-cdef-EXAMPLE22222"
CHAT = "b2c3d4e5-6789-01bc-def0-EXAMPLE33333"


def test_every_fixture_is_covered_by_a_test() -> None:
    names = {p.name for p in (FIXTURES / "contact_lens").glob("*.json")}
    assert names == {"voice_started.json", "voice_segments.json", "voice_segments_pii.json", "voice_completed.json",
                     "voice_failed.json", "chat_started.json", "chat_segments.json", "chat_completed.json"}


@pytest.mark.parametrize(("name", "contact", "channel"), [("voice_started.json", CONTACT, "voice"),
                                                           ("chat_started.json", CHAT, "chat")])
def test_started(name: str, contact: str, channel: str) -> None:
    [event] = adapt(load_contact_lens(name), T0).events
    assert (event.type, event.contact_id, event.channel, event.language) == ("contact_started", contact, channel,
                                                                             "en-US")
    assert event.event_id == f"cl:{contact}:started" and event.timestamp_ms == T0


@pytest.mark.parametrize(("name", "status"), [("voice_completed.json", "completed"), ("voice_failed.json", "failed"),
                                              ("chat_completed.json", "completed")])
def test_end_events(name: str, status: str) -> None:
    [event] = adapt(load_contact_lens(name), T0).events
    assert (event.type, event.status) == ("contact_ended", status)
    assert event.event_id.endswith(":ended")  # COMPLETED and FAILED share it: a session ends once


def test_voice_segments_emit_transcripts_only_and_count_the_rest() -> None:
    batch = adapt(load_contact_lens("voice_segments.json"), T0)
    assert [(e.speaker, e.utterance_id) for e in batch.events] == [
        ("agent", "121d1581-905f-4169-9804-b841bb4df04a"), ("customer", "081a8e3b-8c2f-4a4b-9e3c-5d9b8f0f1a22")]
    agent = batch.events[0]
    assert agent.text == "Hello, thank you for calling Example Corp. My name is Adam. How can I help you?"
    assert (agent.begin_offset_ms, agent.end_offset_ms) == (19010, 24598)
    assert agent.event_id == f"cl:{CONTACT}:t:121d1581-905f-4169-9804-b841bb4df04a"
    assert batch.utterance_partials == 2
    assert batch.categories == ["CreditCardRelated", "CardBrokenIssue"]


def test_voice_pii_segments_ignore_post_contact_summary() -> None:
    batch = adapt(load_contact_lens("voice_segments_pii.json"), T0)
    assert len(batch.events) == 1 and batch.utterance_partials == 1 and batch.ignored_segments == 1


def test_chat_segments_use_absolute_time() -> None:
    batch = adapt(load_contact_lens("chat_segments.json"), T0)
    assert [e.speaker for e in batch.events] == ["agent", "customer"]
    assert batch.events[0].timestamp_ms == 1_666_841_485_000  # 2022-10-27T03:31:25.000Z
    assert batch.events[1].timestamp_ms == 1_666_841_500_123
    assert batch.events[0].begin_offset_ms is None and batch.categories == ["AddressChange"]


def test_adapter_is_deterministic() -> None:
    doc = load_contact_lens("voice_segments.json")
    assert adapt(doc, T0).events == adapt(doc, T0).events
    assert [e.event_id for e in adapt(doc, T0).events] == [e.event_id for e in adapt(doc, T0 + 999).events]


def broken(name: str, path: list[str | int], value: object = ...) -> dict:
    doc = load_contact_lens(name)
    target = doc
    for step in path[:-1]:
        target = target[step]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(("doc", "reason", "field"), [
    (broken("voice_started.json", ["ContactId"]), "missing_field", "ContactId"),
    (broken("voice_started.json", ["EventType"]), "missing_field", "EventType"),
    (broken("voice_started.json", ["EventType"], "PAUSED"), "unknown_event_type", "EventType"),
    (broken("voice_started.json", ["Channel"], "TASK"), "invalid_value", "Channel"),
    (broken("voice_started.json", ["ContactId"], 42), "wrong_type", "ContactId"),
    (broken("voice_segments.json", ["Segments"]), "missing_field", "Segments"),
    (broken("voice_segments.json", ["Segments"], {}), "wrong_type", "Segments"),
    (broken("voice_segments.json", ["Segments", 2, "Transcript", "Content"]), "missing_field",
     "Segments[2].Transcript.Content"),
    (broken("voice_segments.json", ["Segments", 2, "Transcript", "Content"], " "), "invalid_value",
     "Segments[2].Transcript.Content"),
    (broken("voice_segments.json", ["Segments", 3, "Transcript", "BeginOffsetMillis"], "0"), "wrong_type",
     "Segments[3].Transcript.BeginOffsetMillis"),
    (broken("voice_segments.json", ["Segments", 4, "Categories", "MatchedCategories"], "x"), "wrong_type",
     "Segments[4].Categories.MatchedCategories"),
    (broken("chat_segments.json", ["Segments", 0, "Transcript", "Time", "AbsoluteTime"], "soon"),
     "invalid_timestamp", "Segments[0].Transcript.Time.AbsoluteTime"),
])
def test_invalid_events_are_rejected_precisely(doc: dict, reason: str, field: str) -> None:
    with pytest.raises(Rejected) as info:
        adapt(doc, T0)
    assert (info.value.reason, info.value.field) == (reason, field)
