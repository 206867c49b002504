"""Linear heads on sentence embeddings, as plain numpy (weights in heads.npz; no sklearn at serving).

Polarity: softmax(x @ W.T + b) / T over (negative, neutral, positive), T fitted on dev (temperature scaling).
Emotions: independent sigmoids (multi-label), one row of weights per emotion, Platt-scaled on dev.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

POLARITY = ("negative", "neutral", "positive")
EMOTIONS = ("anger", "frustration", "confusion", "disappointment", "anxiety", "gratitude", "satisfaction")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Heads:
    pol_w: np.ndarray        # (3, d)
    pol_b: np.ndarray        # (3,)
    temperature: float
    emo_w: np.ndarray        # (k, d)
    emo_b: np.ndarray        # (k,)
    emo_scale: np.ndarray    # (k,) Platt slope
    emo_shift: np.ndarray    # (k,) Platt intercept
    emotions: tuple[str, ...] = EMOTIONS
    version: str = "dev"

    def polarity_proba(self, x: np.ndarray) -> np.ndarray:
        return softmax((x @ self.pol_w.T + self.pol_b) / self.temperature)

    def emotion_proba(self, x: np.ndarray) -> np.ndarray:
        return _sigmoid((x @ self.emo_w.T + self.emo_b) * self.emo_scale + self.emo_shift)

    def save(self, path: Path) -> None:
        np.savez(path, pol_w=self.pol_w.astype(np.float32), pol_b=self.pol_b.astype(np.float32),
                 temperature=np.float32(self.temperature), emo_w=self.emo_w.astype(np.float32),
                 emo_b=self.emo_b.astype(np.float32), emo_scale=self.emo_scale.astype(np.float32),
                 emo_shift=self.emo_shift.astype(np.float32), emotions=np.array(self.emotions),
                 version=np.array(self.version))

    @classmethod
    def load(cls, path: Path) -> Heads:
        with np.load(path, allow_pickle=False) as z:
            return cls(pol_w=z["pol_w"], pol_b=z["pol_b"], temperature=float(z["temperature"]),
                       emo_w=z["emo_w"], emo_b=z["emo_b"], emo_scale=z["emo_scale"], emo_shift=z["emo_shift"],
                       emotions=tuple(str(e) for e in z["emotions"]), version=str(z["version"]))
