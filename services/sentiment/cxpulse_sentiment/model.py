"""Public serving API: SentimentModel.load().predict(texts). numpy + onnxruntime + tokenizers only."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .encoder import Encoder
from .heads import POLARITY, Heads

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


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
    def __init__(self, encoder: Encoder, heads: Heads, version: str, encoder_version: str = "unknown") -> None:
        self.encoder = encoder
        self.heads = heads
        self.version = version
        self.encoder_version = encoder_version

    @classmethod
    def load(cls, artifact_dir: Path | None = None, threads: int | None = None) -> SentimentModel:
        """Load the packaged (or given) artifacts; never touches the network."""
        d = Path(artifact_dir) if artifact_dir is not None else ARTIFACTS
        meta = json.loads((d / "encoder_meta.json").read_text())
        heads = Heads.load(d / "heads.npz")
        # e.g. minilm-l6-ft1-int8-pc+heads-2026.12.1: encoder (ftN: top N layers fine-tuned), quantization, heads
        version = f"{meta.get('name', 'minilm-l6')}-{meta['variant']}+{heads.version}"
        return cls(Encoder.from_dir(d, threads=threads), heads, version, encoder_version(d))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised (n, 384) float32 sentence embeddings, in input order."""
        return self.encoder.embed(list(texts))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 3) polarity probabilities in POLARITY order (negative, neutral, positive), for evaluation."""
        return self.heads.polarity_proba(self.encoder.embed(list(texts)))

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """One prediction per text, in input order; a text repeated within the call is encoded once."""
        texts = list(texts)
        unique = list(dict.fromkeys(texts))
        predicted = dict(zip(unique, self._predict(unique), strict=True))
        return [predicted[t] for t in texts]

    def _predict(self, texts: list[str]) -> list[Prediction]:
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
