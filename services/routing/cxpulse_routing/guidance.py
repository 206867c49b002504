"""Agent assist: tone guidance for a customer turn, and up to three phrases from the phrase library retrieved by
cosine similarity to the turn's meaning. Pure and encoder-free: the turn's embedding comes with its
UtteranceSentiment (the sentiment service encoded it once), the library's embeddings from a matrix precomputed with
the same encoder (`cxpulse embed-phrases`, shipped next to phrases.yaml). The two are compared only when their
encoder versions are equal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml

from cxpulse_core.embedding import EmbeddingError, PhraseMatrix, load_matrix, unpack


class Encoder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised (n, dim) float32 sentence embeddings, in input order."""
        ...


class PhrasesError(ValueError):
    """An invalid phrase library."""


class Unusable(Exception):  # noqa: N818 - a skip, not an error: the record is valid
    """A turn whose embedding cannot be compared with the phrase matrix; `reason` labels the metric."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


__all__ = ["EmbeddingError", "Guide", "PhrasesError", "Unusable", "load_library", "load_phrase_matrix"]


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


REGENERATE = "regenerate it: cxpulse embed-phrases --phrases {phrases} --out {matrix}"


def matrix_path(phrases_path: Path) -> Path:
    """Where the library's precomputed embeddings live by default: phrases.yaml -> phrases.embeddings.npz."""
    return phrases_path.with_suffix(".embeddings.npz")


def load_phrase_matrix(path: Path, phrases: list[Phrase], phrases_path: Path | None = None) -> PhraseMatrix:
    """The precomputed matrix of `phrases`, checked to be of exactly these phrases (same ids and texts, in order):
    an edited library with a stale matrix would rank phrases by other phrases' meaning."""
    hint = REGENERATE.format(phrases=phrases_path or "PHRASES.yaml", matrix=path)
    try:
        pm = load_matrix(path)
    except EmbeddingError as exc:
        raise PhrasesError(f"{exc}; {hint}") from exc
    if pm.ids != tuple(p.phrase_id for p in phrases) or pm.texts != tuple(p.text for p in phrases):
        stale = sorted({p.phrase_id for p in phrases} ^ set(pm.ids)) or [
            p.phrase_id for p, t in zip(phrases, pm.texts, strict=False) if p.text != t]
        raise PhrasesError(f"{path}: the phrase matrix is not of this phrase library (differs at "
                           f"{', '.join(stale[:5]) or 'the order'}); {hint}")
    return pm


class Guide:
    def __init__(self, policy: Policy, phrases: list[Phrase], matrix: PhraseMatrix, top_k: int = 3) -> None:
        self.policy, self.phrases, self.top_k = policy, phrases, top_k
        self.encoder = matrix.encoder  # the version turns' embeddings must have
        self.matrix = matrix.matrix
        self.dim = int(self.matrix.shape[1])

    @classmethod
    def from_file(cls, path: Path, matrix: Path | None = None, top_k: int = 3) -> Guide:
        policy, phrases = load_library(path)
        return cls(policy, phrases, load_phrase_matrix(matrix or matrix_path(path), phrases, path), top_k)

    @classmethod
    def with_encoder(cls, policy: Policy, phrases: list[Phrase], encoder: Encoder, version: str,
                     top_k: int = 3) -> Guide:
        """A guide whose matrix is computed here with `encoder` (tests and `cxpulse embed-phrases`)."""
        texts = [p.text for p in phrases]
        pm = PhraseMatrix(version, tuple(p.phrase_id for p in phrases), tuple(texts),
                          np.asarray(encoder.embed(texts), dtype=np.float32))
        return cls(policy, phrases, pm, top_k)

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

    def vector(self, utterance: dict[str, Any]) -> np.ndarray:
        """The turn's embedding as shipped on its UtteranceSentiment. Raises Unusable (a skip, with its reason)
        when it has none or one of another encoder, EmbeddingError when the field is malformed."""
        embedding = utterance.get("embedding")
        if embedding is None:
            raise Unusable("no_embedding", "the record carries no embedding (written by a sentiment service that "
                                           "does not ship them)")
        if embedding.get("encoder") != self.encoder:
            raise Unusable("encoder_mismatch", f"turn embedded by {embedding.get('encoder')!r}, phrase matrix by "
                                               f"{self.encoder!r}: regenerate the matrix (cxpulse embed-phrases) "
                                               "for the encoder the sentiment service runs")
        return unpack(embedding, self.dim)

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
