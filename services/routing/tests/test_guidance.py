"""Agent assist with a deterministic fake encoder standing in for the sentiment service's: which turns get guidance,
tone, phrase retrieval from the turn's shipped embedding, and the checks on the embedding and the phrase matrix."""

from __future__ import annotations

from pathlib import Path

import pytest
from conversations import NEUTRAL, utterance

from cxpulse_core.embedding import EmbeddingError, PhraseMatrix, pack, save_matrix
from cxpulse_routing.encoders import VERSION, HashingEncoder
from cxpulse_routing.guidance import Guide, PhrasesError, Unusable, load_library, load_phrase_matrix

LIBRARY = Path(__file__).resolve().parents[1] / "cxpulse_routing" / "phrases.yaml"


@pytest.fixture(scope="module")
def guide() -> Guide:
    return Guide.with_encoder(*load_library(LIBRARY), HashingEncoder(), VERSION)


def embedded(u: dict, encoder: str = VERSION) -> dict:
    """The turn as the sentiment service ships it: with its embedding in compact form."""
    return u | {"embedding": pack(HashingEncoder().embed([u["text"]])[0], encoder)}


def advise(guide: Guide, u: dict):
    emotion = guide.needs_guidance(u)
    return None if emotion is None else guide.advise(emotion, guide.vector(embedded(u)))


def test_the_library_is_large_enough_and_valid():
    policy, phrases = load_library(LIBRARY)
    assert len(phrases) >= 100
    assert {"anger", "frustration", "confusion", "disappointment", "anxiety", "negative"} <= set(policy.tones)


def test_guidance_for_an_angry_turn_differs_from_guidance_for_a_confused_one(guide):
    angry = advise(guide, utterance("You charged me twice this month, this is ridiculous!",
                                    {**NEUTRAL, "anger": 0.86, "frustration": 0.7}, -0.9))
    confused = advise(guide, utterance("I don't understand why this bill has two payments on it?",
                                       {**NEUTRAL, "confusion": 0.8}, -0.3))
    assert angry.emotion == "anger" and confused.emotion == "confusion"
    assert angry.tone[:2] == ("acknowledge", "apologize") and "clarify" in confused.tone
    assert {p.phrase_id for p in angry.phrases}.isdisjoint({p.phrase_id for p in confused.phrases})
    assert all(p.intent in angry.tone for p in angry.phrases)
    assert all(p.intent in confused.tone for p in confused.phrases)
    assert len(angry.phrases) == 3 and len({p.intent for p in angry.phrases}) == 3  # one per intent
    assert any("charged twice" in p.text for p in angry.phrases)  # retrieved by similarity to the turn
    assert [p.similarity for p in angry.phrases] == sorted((p.similarity for p in angry.phrases), reverse=True)


def test_only_customer_turns_that_warrant_it_get_guidance(guide):
    assert advise(guide, utterance("Sure, that works.", NEUTRAL, 0.1)) is None
    assert advise(guide, utterance("This is not good.", NEUTRAL, -0.6, speaker="agent")) is None
    negative = advise(guide, utterance("That's not what I was told last time.", NEUTRAL, -0.5))
    assert negative.emotion == "negative" and negative.tone[0] == "acknowledge"
    thanks = advise(guide, utterance("Thank you so much, that's perfect.", {**NEUTRAL, "gratitude": 0.9}, 0.9))
    assert thanks.emotion == "gratitude" and thanks.tone[0] == "thank"


def test_the_same_turn_gets_the_same_guidance(guide):
    u = utterance("My internet keeps dropping and I'm worried I'll lose my work.", {**NEUTRAL, "anxiety": 0.7}, -0.5)
    assert advise(guide, u) == advise(guide, u)


def test_an_invalid_library_fails_clearly(tmp_path):
    path = tmp_path / "phrases.yaml"
    path.write_text("policy: {tones: {anger: [apologize]}}\nphrases:\n"
                    "  - {id: a, intent: apologize, emotions: [anger], text: Sorry.}\n"
                    "  - {id: a, intent: shout, emotions: [anger], text: Calm down.}\n")
    with pytest.raises(PhrasesError) as failure:
        load_library(path)
    assert "phrase id 'a' is used twice" in str(failure.value)
    assert "intent 'shout' is in no tone list" in str(failure.value)
    assert str(path) in str(failure.value)


def test_retrieval_from_the_int8_embedding_ranks_like_the_float_vector(guide):
    u = utterance("You charged me twice this month, this is ridiculous!", {**NEUTRAL, "anger": 0.9}, -0.9)
    exact = guide.advise("anger", HashingEncoder().embed([u["text"]])[0])
    assert [p.phrase_id for p in advise(guide, u).phrases] == [p.phrase_id for p in exact.phrases]


def test_a_turn_without_a_usable_embedding_gets_no_vector(guide):
    u = utterance("You charged me twice!", {**NEUTRAL, "anger": 0.9}, -0.9)
    with pytest.raises(Unusable) as none:
        guide.vector(u | {"embedding": None})
    assert none.value.reason == "no_embedding"
    with pytest.raises(Unusable) as other:
        guide.vector(embedded(u, encoder="minilm-l6-int8-pc@0000000000000000"))
    assert other.value.reason == "encoder_mismatch" and "cxpulse embed-phrases" in str(other.value)
    broken = embedded(u)
    broken["embedding"]["values"] = broken["embedding"]["values"][:10]
    with pytest.raises(EmbeddingError):
        guide.vector(broken)


def test_a_phrase_matrix_of_another_library_is_refused_at_start(tmp_path):
    _, phrases = load_library(LIBRARY)
    texts = [p.text for p in phrases]
    good = PhraseMatrix(VERSION, tuple(p.phrase_id for p in phrases), tuple(texts), HashingEncoder().embed(texts))
    save_matrix(tmp_path / "ok.npz", good)
    assert load_phrase_matrix(tmp_path / "ok.npz", phrases).encoder == VERSION
    edited = PhraseMatrix(VERSION, good.ids, (*good.texts[:-1], "Something else entirely."), good.matrix)
    save_matrix(tmp_path / "stale.npz", edited)
    with pytest.raises(PhrasesError) as stale:
        load_phrase_matrix(tmp_path / "stale.npz", phrases, LIBRARY)
    assert phrases[-1].phrase_id in str(stale.value) and "cxpulse embed-phrases" in str(stale.value)
    (tmp_path / "junk.npz").write_bytes(b"not a matrix")
    with pytest.raises(PhrasesError):
        load_phrase_matrix(tmp_path / "junk.npz", phrases)
