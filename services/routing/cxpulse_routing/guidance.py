"""Agent assist: tone guidance for a customer turn, and up to three phrases from the phrase library retrieved by
cosine similarity to the turn's text. Pure: the encoder is injected (the sentiment model in production, a
deterministic fake in tests) and the library's embeddings are computed once, here, at start."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml


class Encoder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised (n, dim) float32 sentence embeddings, in input order."""
        ...


class PhrasesError(ValueError):
    """An invalid phrase library."""


@dataclass(frozen=True)
class Phrase:
    phrase_id: str
    text: str
    intent: str
    emotions: frozenset[str]


@dataclass(frozen=True)
class Suggestion:
    phrase_id: str
    text: str
    intent: str
    similarity: float


@dataclass(frozen=True)
class Guidance:
    emotion: str  # dominant emotion, or "negative" for a negative turn without a notable emotion
    tone: tuple[str, ...]
    phrases: tuple[Suggestion, ...]


@dataclass(frozen=True)
class Policy:
    min_probability: float
    tones: dict[str, tuple[str, ...]]  # emotion (or "negative") -> tone guidance, most important first


def load_library(path: Path) -> tuple[Policy, list[Phrase]]:
    try:
        doc = yaml.safe_load(path.read_text())
        policy = doc["policy"]
        tones = {str(e): tuple(str(t) for t in ts) for e, ts in policy["tones"].items()}
        phrases = [Phrase(str(p["id"]), str(p["text"]), str(p["intent"]), frozenset(p["emotions"]))
                   for p in doc["phrases"]]
        result = Policy(float(policy.get("min_probability", 0.5)), tones), phrases
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PhrasesError(f"{path}: invalid phrase library: {exc.__class__.__name__}: {exc}") from exc
    ids = [p.phrase_id for p in phrases]
    problems = [f"phrase id {i!r} is used twice" for i in sorted(set(ids)) if ids.count(i) > 1]
    known = {t for ts in tones.values() for t in ts}
    for p in phrases:
        if p.intent not in known:
            problems.append(f"phrase {p.phrase_id}: intent {p.intent!r} is in no tone list")
        if not p.text.strip() or not p.emotions:
            problems.append(f"phrase {p.phrase_id}: empty text or emotions")
    if problems:
        raise PhrasesError(f"{path}: invalid phrase library:\n  " + "\n  ".join(problems))
    return result


class Guide:
    def __init__(self, policy: Policy, phrases: list[Phrase], encoder: Encoder, top_k: int = 3) -> None:
        self.policy, self.phrases, self.encoder, self.top_k = policy, phrases, encoder, top_k
        self.matrix = np.asarray(encoder.embed([p.text for p in phrases]), dtype=np.float32)  # once, at start

    @classmethod
    def from_file(cls, path: Path, encoder: Encoder, top_k: int = 3) -> Guide:
        return cls(*load_library(path), encoder, top_k)

    def needs_guidance(self, utterance: dict[str, Any]) -> str | None:
        """The emotion to respond to, if this turn warrants guidance: a customer turn with a notable emotion
        (the most likely one at or above min_probability), else "negative" for a negative turn."""
        if utterance.get("speaker") != "customer":
            return None
        notable = [(p, e) for e, p in (utterance.get("emotions") or {}).items()
                   if p >= self.policy.min_probability and e in self.policy.tones]
        if notable:
            return max(notable)[1]
        return "negative" if utterance.get("label") == "negative" and "negative" in self.policy.tones else None

    def embed(self, text: str) -> np.ndarray:
        return np.asarray(self.encoder.embed([text]), dtype=np.float32)[0]

    def advise(self, emotion: str, vector: np.ndarray) -> Guidance:
        """Tone for `emotion`; phrases whose intent is in that tone and whose tags include the emotion (or
        "any"), ranked by similarity to the turn, at most one per intent while there are enough intents."""
        tone = self.policy.tones[emotion]
        similarity = self.matrix @ vector
        candidates = sorted((i for i, p in enumerate(self.phrases)
                             if p.intent in tone and (emotion in p.emotions or "any" in p.emotions)),
                            key=lambda i: (-similarity[i], self.phrases[i].phrase_id))
        chosen: list[int] = []
        for distinct in (True, False):
            for i in candidates:
                if len(chosen) < self.top_k and i not in chosen and \
                        (not distinct or self.phrases[i].intent not in {self.phrases[j].intent for j in chosen}):
                    chosen.append(i)
        phrases = tuple(Suggestion(self.phrases[i].phrase_id, self.phrases[i].text, self.phrases[i].intent,
                                   round(float(similarity[i]), 4)) for i in chosen)
        return Guidance(emotion, tone, phrases)
