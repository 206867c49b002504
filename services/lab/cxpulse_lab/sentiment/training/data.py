"""Load the training/eval splits shipped in services/lab/data/sentiment/ and map them to our label space.

GoEmotions -> polarity: the authors' sentiment_dict (positive / negative); "ambiguous" emotions and
`neutral` -> neutral; rows with both a positive and a negative emotion are dropped (no single gold label).
GoEmotions -> contact-center emotions: see GOEMO_TO_CS (documented in MODEL_CARD.md).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cxpulse_sentiment.heads import EMOTIONS, POLARITY

DATA = Path(__file__).resolve().parents[3] / "data" / "sentiment"  # services/lab/data/sentiment
GOEMO_TO_CS = {
    "anger": "anger", "disgust": "anger",
    "annoyance": "frustration",
    "confusion": "confusion",
    "disappointment": "disappointment", "sadness": "disappointment",
    "nervousness": "anxiety", "fear": "anxiety",
    "gratitude": "gratitude",
    "joy": "satisfaction", "approval": "satisfaction", "admiration": "satisfaction", "relief": "satisfaction",
    "love": "satisfaction",
}


@dataclass
class Split:
    name: str
    texts: list[str] = field(default_factory=list)
    y: list[int] = field(default_factory=list)              # index into POLARITY
    emo: list[list[int]] = field(default_factory=list)      # multi-hot over EMOTIONS
    rating: list[float] = field(default_factory=list)       # mean human rating, -1..1; nan where none

    def add(self, text: str, label: str, emotions: set[str], rating: float = float("nan")) -> None:
        self.texts.append(text)
        self.y.append(POLARITY.index(label))
        self.emo.append([int(e in emotions) for e in EMOTIONS])
        self.rating.append(rating)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self.y, dtype=np.int64), np.array(self.emo, dtype=np.int64).reshape(-1, len(EMOTIONS))


def load_goemotions(part: str, root: Path = DATA / "goemotions") -> Split:
    names = (root / "emotions.txt").read_text().split()
    groups = json.loads((root / "sentiment_dict.json").read_text())
    pos, neg = set(groups["positive"]), set(groups["negative"])
    split = Split(f"goemotions-{part}")
    with (root / f"{part}.tsv").open(encoding="utf-8") as f:
        for text, ids, _ in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            labels = {names[int(i)] for i in ids.split(",")}
            is_pos, is_neg = bool(labels & pos), bool(labels & neg)
            if is_pos and is_neg:
                continue
            label = "positive" if is_pos else "negative" if is_neg else "neutral"
            split.add(text, label, {GOEMO_TO_CS[name] for name in labels if name in GOEMO_TO_CS})
    return split


def load_cs_synth(part: str, path: Path = DATA / "cs_synth" / "cs_synth.jsonl") -> Split:
    split = Split(f"cs-synth-{part}")
    with path.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["split"] == part:
                split.add(r["text"], r["label"], set(r["emotions"]))
    return split


def load_cs_test(path: Path = DATA / "cs_test" / "cs_test.tsv") -> Split:
    """Hand-written held-out customer-service set. Evaluation only: never used for fitting or tuning."""
    split = Split("cs-test")
    with path.open(encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            split.add(r["text"], r["label"], set(r["emotions"].split(",")) - {"-"})
    return split
