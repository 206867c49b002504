"""Public serving API: SentimentModel.load().predict(texts). numpy + onnxruntime + tokenizers only."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .encoder import Encoder
from .heads import POLARITY, Heads

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Optional LRU for short repeated turns ("yes", "okay"). Off by default: measured no gain (short turns are the
# cheapest to encode and repeats inside one call are already deduplicated); see MODEL_CARD.md.
CACHE_MAX_CHARS = 24


@dataclass(frozen=True)
class Prediction:
    label: str                     # "negative" | "neutral" | "positive"
    score: float                   # P(pos) - P(neg), in [-1, 1]
    score5: float                  # 5 * score
    emotions: dict[str, float]     # name -> probability (independent, multi-label)
    # The encoder's L2-normalised embedding (float32, 384): shipped on UtteranceSentiment for reuse downstream.
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)


def encoder_version(artifact_dir: Path) -> str:
    """Names the encoder exactly: its variant and a digest of its weights and tokenizer. Embeddings are comparable
    only between equal versions (routing's phrase matrix is checked against it)."""
    meta = json.loads((artifact_dir / "encoder_meta.json").read_text())
    digest = hashlib.sha256()
    for name in ("encoder.onnx", "tokenizer.json"):
        digest.update((artifact_dir / name).read_bytes())
    return f"{meta.get('name', 'minilm-l6')}-{meta['variant']}@{digest.hexdigest()[:16]}"


class SentimentModel:
    def __init__(self, encoder: Encoder, heads: Heads, version: str, cache_size: int = 0,
                 encoder_version: str = "unknown") -> None:
        self.encoder = encoder
        self.heads = heads
        self.version = version
        self.encoder_version = encoder_version
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Prediction] = OrderedDict()

    @classmethod
    def load(
        cls, artifact_dir: Path | None = None, threads: int | None = None, cache_size: int = 0
    ) -> SentimentModel:
        """Load the packaged (or given) artifacts; never touches the network."""
        d = Path(artifact_dir) if artifact_dir is not None else ARTIFACTS
        meta = json.loads((d / "encoder_meta.json").read_text())
        heads = Heads.load(d / "heads.npz")
        # e.g. minilm-l6-ft1-int8-pc+heads-2026.12.1: encoder (ftN: top N layers fine-tuned), quantization, heads
        version = f"{meta.get('name', 'minilm-l6')}-{meta['variant']}+{heads.version}"
        return cls(Encoder.from_dir(d, threads=threads), heads, version, cache_size, encoder_version(d))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised (n, 384) float32 sentence embeddings, in input order."""
        return self.encoder.embed(list(texts))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 3) polarity probabilities in POLARITY order (negative, neutral, positive), for evaluation."""
        return self.heads.polarity_proba(self.encoder.embed(list(texts)))

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        texts = list(texts)
        out: list[Prediction | None] = [None] * len(texts)
        todo: dict[str, list[int]] = {}  # unique uncached text -> positions (duplicates encoded once)
        for i, t in enumerate(texts):
            hit = self._cache.get(t) if self.cache_size and len(t) <= CACHE_MAX_CHARS else None
            if hit is not None:
                self._cache.move_to_end(t)
                out[i] = hit
            else:
                todo.setdefault(t, []).append(i)
        if todo:
            uniq = list(todo)
            for t, pred in zip(uniq, self._predict_uncached(uniq), strict=True):
                for i in todo[t]:
                    out[i] = pred
                if self.cache_size and len(t) <= CACHE_MAX_CHARS:
                    self._cache[t] = pred
                    if len(self._cache) > self.cache_size:
                        self._cache.popitem(last=False)
        return out  # type: ignore[return-value]

    def _predict_uncached(self, texts: list[str]) -> list[Prediction]:
        x = self.encoder.embed(texts)
        pol = self.heads.polarity_proba(x)
        emo = self.heads.emotion_proba(x)
        neg, pos = POLARITY.index("negative"), POLARITY.index("positive")
        preds = []
        for p, e, v in zip(pol, emo, x, strict=True):
            # Rounded so tiny float differences between batch compositions don't leak into outputs.
            score = round(float(p[pos] - p[neg]), 6)
            emotions = {n: round(float(v), 6) for n, v in zip(self.heads.emotions, e, strict=True)}
            preds.append(Prediction(POLARITY[int(p.argmax())], score, round(5 * score, 6), emotions, v))
        return preds
