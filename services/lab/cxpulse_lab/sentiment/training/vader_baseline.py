"""VADER baseline on the held-out splits (standard thresholds: compound >= 0.05 pos, <= -0.05 neg).

    ../../.venv-train/bin/python -m cxpulse_lab.sentiment.training.vader_baseline   # vaderSentiment is pinned there
"""

from __future__ import annotations

import json

import numpy as np

from .data import load_cs_test, load_goemotions
from .metrics import polarity_report


def main() -> int:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    out = {}
    for split in (load_goemotions("test"), load_cs_test()):
        c = np.array([sia.polarity_scores(t)["compound"] for t in split.texts])
        pred = np.where(c >= 0.05, 2, np.where(c <= -0.05, 0, 1))
        rep = polarity_report(np.eye(3)[pred], split.arrays()[0])
        rep.pop("reliability")
        rep.pop("ece")  # VADER gives no probabilities
        out[split.name] = rep
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
