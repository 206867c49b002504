"""Agent assist with a deterministic fake encoder: which turns get guidance, tone, and phrase retrieval."""

from __future__ import annotations

from pathlib import Path

import pytest
from conversations import NEUTRAL, utterance

from cxpulse_routing.encoders import HashingEncoder
from cxpulse_routing.guidance import Guide, PhrasesError, load_library

LIBRARY = Path(__file__).resolve().parents[1] / "cxpulse_routing" / "phrases.yaml"


@pytest.fixture(scope="module")
def guide() -> Guide:
    return Guide.from_file(LIBRARY, HashingEncoder())


def advise(guide: Guide, u: dict):
    emotion = guide.needs_guidance(u)
    return None if emotion is None else guide.advise(emotion, guide.embed(u["text"]))


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
