"""Load the churn model and score feature rows with probability, band and reasons.

The artifact is a LightGBM text model plus a JSON sidecar (version, feature
names, calibration, band thresholds). Scoring runs ONE LightGBM call per batch:
pred_contrib=True returns per-feature SHAP contributions plus the expected value
in the last column, and their sum is the raw log-odds, so the plain prediction
comes for free.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from cxpulse_churn.features import FEATURE_NAMES, reason_text

ARTIFACT = Path(__file__).parent / "artifacts" / "churn_model.txt"
BANDS = ("low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class Reason:
    feature: str
    value: float
    contribution: float  # log-odds; > 0 pushes risk up
    text: str


@dataclass(frozen=True, slots=True)
class Score:
    probability: float
    band: str
    reasons: tuple[Reason, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def calibrate(raw: np.ndarray, calibration: dict[str, Any] | None) -> np.ndarray:
    """Probability from raw log-odds; Platt scaling (a > 0 keeps it monotone) when configured."""
    if calibration and calibration.get("method") == "platt":
        raw = calibration["a"] * raw + calibration["b"]
    return 1.0 / (1.0 + np.exp(-raw))


class ChurnModel:
    def __init__(self, booster: lgb.Booster, meta: dict[str, Any], num_threads: int = 1) -> None:
        if list(meta["feature_names"]) != list(FEATURE_NAMES):
            raise ValueError("model feature names differ from cxpulse_churn.features.FEATURE_NAMES")
        self.booster = booster
        self.meta = meta
        self.version: str = meta["version"]
        self.thresholds = [meta["band_thresholds"][b] for b in BANDS[1:]]
        self._predict_params = {"num_threads": num_threads}

    @classmethod
    def load(cls, path: str | Path | None = None, num_threads: int = 1) -> ChurnModel:
        """Load `<path>` (.txt) and its `.json` sidecar; the packaged artifact by default."""
        model_path = Path(path) if path is not None else ARTIFACT
        if model_path.is_dir():
            model_path = model_path / ARTIFACT.name
        meta = json.loads(model_path.with_suffix(".json").read_text())
        return cls(lgb.Booster(model_file=str(model_path)), meta, num_threads)

    def predict_proba(self, feature_rows: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        x = np.asarray(feature_rows, dtype=np.float64).reshape(-1, len(FEATURE_NAMES))
        raw = self.booster.predict(x, raw_score=True, **self._predict_params)
        return calibrate(raw, self.meta.get("calibration"))

    def score_many(
        self, feature_rows: Sequence[Sequence[float]] | np.ndarray, n_reasons: int = 3
    ) -> list[Score]:
        """Scores in input order; reasons: positive contributions first, largest first."""
        x = np.asarray(feature_rows, dtype=np.float64).reshape(-1, len(FEATURE_NAMES))
        if x.shape[0] == 0:
            return []
        contrib = self.booster.predict(x, pred_contrib=True, **self._predict_params)
        feat = contrib[:, :-1]
        prob = calibrate(contrib.sum(axis=1), self.meta.get("calibration"))
        bands = np.searchsorted(self.thresholds, prob, side="right")
        # lexsort: last key is primary -> positives first, then by |contribution| desc.
        order = np.lexsort((-np.abs(feat), feat <= 0), axis=1)[:, :n_reasons]
        out = []
        for r in range(x.shape[0]):
            reasons = tuple(
                Reason(FEATURE_NAMES[j], float(x[r, j]), float(feat[r, j]),
                       reason_text(FEATURE_NAMES[j], float(x[r, j])))
                for j in order[r] if feat[r, j] != 0.0
            )
            out.append(Score(float(prob[r]), BANDS[bands[r]], reasons))
        return out
