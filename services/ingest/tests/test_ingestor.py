"""End to end through the pure entry point: outputs match the Avro contracts, duplicates give None,
rejections are precise and PII-free, Contact Lens contacts come out whole."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from ingest_testdata import load_contact_lens, raw_examples

from cxpulse_core.records import ContactEnded, ContactStarted, Speaker, Utterance
from cxpulse_ingest.ingestor import Ingestor, IngestRules, Rejection
from cxpulse_ingest.normalize import Interaction

T0 = 1_714_559_400_000


def run(ingestor: Ingestor, raw: bytes | dict[str, Any], source: str = "cxpulse", t: int = T0) -> Any:
    return ingestor.process(raw, source, origin_time_ms=t - 50, now_ms=t)


def assert_matches_avro(outputs: list[Interaction], schemas: dict[str, Any]) -> None:
    from fastavro import schemaless_writer
    from fastavro.validation import validate
    for output in outputs:
        value = output.to_dict()
        assert validate(value, schemas[output.SCHEMA], raise_errors=True)
        schemaless_writer(io.BytesIO(), schemas[output.SCHEMA], value)
        # exactly the schema's fields: nothing extra the serde would silently drop
        assert set(value) == {f["name"] for f in schemas[output.SCHEMA]["fields"]}


def test_documented_examples_flow_through_and_match_avro(avro_schemas: dict[str, Any]) -> None:
    ingestor = Ingestor()
    outputs: list[Interaction] = []
    for i, example in enumerate(raw_examples()):
        result = run(ingestor, json.dumps(example).encode(), t=T0 + i)
        assert isinstance(result, list), result
        outputs += result
    assert_matches_avro(outputs, avro_schemas)
    assert [type(o) for o in outputs] == [ContactStarted, Utterance, Utterance, ContactEnded,
                                          ContactStarted, Utterance, ContactEnded]
    card_turn = outputs[2]
    assert isinstance(card_turn, Utterance)
    assert card_turn.text == "I was charged twice, my card is [CARD]." and card_turn.redactions == {"CARD": 1}
    assert card_turn.turn == 2 and card_turn.utterance_id == "evt-0003" and card_turn.speaker is Speaker.CUSTOMER
    assert card_turn.account_id == "acct-77" and card_turn.queue == "billing"  # from contact_started
    assert (card_turn.ingest_time, card_turn.origin_time, card_turn.produced_time) == (T0 + 2, T0 - 48, T0 + 2)
    ended = outputs[3]
    assert isinstance(ended, ContactEnded) and ended.duration_ms == 300_000  # 10:30:00Z -> 12:35:00+02:00
    assert isinstance(outputs[6], ContactEnded) and outputs[6].status == "abandoned"
    assert outputs[5].channel == "chat" and outputs[5].language == "en-US" and outputs[5].sequence == 1
    assert ingestor.counters.redactions == {"CARD": 1} and ingestor.counters.accepted == 7


def test_duplicate_returns_none_and_is_counted() -> None:
    ingestor = Ingestor()
    raw = json.dumps(raw_examples()[1]).encode()
    assert isinstance(run(ingestor, raw), list)
    assert run(ingestor, raw, t=T0 + 1) is None
    assert ingestor.counters.duplicates == 1


def test_rejection_is_returned_counted_and_pii_free() -> None:
    ingestor = Ingestor(IngestRules(max_bytes=4096))
    result = run(ingestor, b'{"event_id": "e", "type": "utterance", "contact_id": "c", "timestamp": "1714559400000",'
                           b' "speaker": "4111 1111 1111 1111", "text": "x"}')
    assert isinstance(result, Rejection)
    assert (result.reason, result.field) == ("invalid_value", "speaker") and "4111" not in result.detail
    assert isinstance(run(ingestor, b"x" * 5000), Rejection)
    assert ingestor.counters.rejected == {"invalid_value": 1, "oversized": 1}


def test_out_of_order_rejected_and_retry_of_rejected_id_is_not_a_duplicate() -> None:
    ingestor = Ingestor()
    base = {"type": "utterance", "contact_id": "c", "timestamp": "1714559400000", "speaker": "agent", "text": "hi"}
    assert isinstance(run(ingestor, base | {"event_id": "a", "sequence": 5}), list)
    late = base | {"event_id": "b", "sequence": 4}
    assert run(ingestor, late).reason == "out_of_order"
    assert run(ingestor, late).reason == "out_of_order"  # not silently dropped as a duplicate


def test_contact_lens_voice_contact_end_to_end(avro_schemas: dict[str, Any]) -> None:
    ingestor = Ingestor()
    outputs: list[Interaction] = []
    for i, name in enumerate(["voice_started.json", "voice_segments.json", "voice_segments_pii.json",
                              "voice_completed.json"]):
        result = run(ingestor, json.dumps(load_contact_lens(name)).encode(), "contact-lens", T0 + i * 1000)
        assert isinstance(result, list), result
        outputs += result
    assert_matches_avro(outputs, avro_schemas)
    assert [o.sequence for o in outputs] == [0, 1, 2, 3, 4]
    assert [o.turn if isinstance(o, Utterance) else None for o in outputs] == [None, 1, 2, 3, None]
    assert all(o.source == "contact-lens" and o.account_id is None for o in outputs)
    pii = outputs[3]
    assert isinstance(pii, Utterance)
    assert pii.text == "Sure, my card number is [CARD] and you can reach me on [PHONE] or [EMAIL]."
    assert pii.redactions == {"CARD": 1, "PHONE": 1, "EMAIL": 1}
    ended = outputs[4]
    assert isinstance(ended, ContactEnded) and ended.status == "completed" and ended.duration_ms == 3000
    c = ingestor.counters
    assert (c.contactlens_utterance_partials, c.contactlens_ignored_segments) == (3, 1)
    assert c.contactlens_categories == {"CreditCardRelated": 1, "CardBrokenIssue": 1}
    # FAILED after COMPLETED is the same end: a duplicate
    assert run(ingestor, load_contact_lens("voice_failed.json"), "contact-lens", T0 + 9000) is None


def test_contact_lens_replayed_segments_are_duplicates_and_categories_only_gives_empty_list() -> None:
    ingestor = Ingestor()
    segments = load_contact_lens("chat_segments.json")
    first = run(ingestor, segments, "contact-lens")
    assert all(isinstance(o, Utterance) for o in first)
    assert first[1].text == "Hi, my SSN is [SSN], I need to update my address."
    assert run(ingestor, segments, "contact-lens", T0 + 1) is None  # e.g. the Redacted copy of a Raw segment
    categories_only = dict(segments, Segments=[segments["Segments"][2]])
    assert run(ingestor, categories_only, "contact-lens", T0 + 2) == []


def test_contact_lens_rejection() -> None:
    result = run(Ingestor(), b'{"ContactId": "c", "Channel": "VOICE"}', "contact-lens")
    assert result == Rejection("missing_field", "EventType", "required (StreamingEventType for chat)")


def test_unknown_source_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        run(Ingestor(), b"{}", "genesys")
