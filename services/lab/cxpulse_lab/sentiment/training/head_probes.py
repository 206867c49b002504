"""Two probes of the polarity head on the shipped encoder's frozen embeddings (MODEL_CARD.md, "Also tried").

    cd services/lab && PYTHONPATH=.:../sentiment ../../.venv-train/bin/python \
        -m cxpulse_lab.sentiment.training.head_probes        # vaderSentiment is pinned in requirements-train.lock

- `vader`: VADER's lexicon scores (compound, negative, positive, |compound|), times a scale, appended to each
  embedding as extra inputs of the head;
- `dynasent`: DynaSent's 3,600 rows (real_data.load_aux) added to the head's training rows at a weight.
Each setting runs `train.py`'s C x real-weight grid and prints real-dev macro-F1 after the dev-fitted temperature
and logit offsets, the figure the shipped heads are chosen on (0.757). The real test split is not read.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from cxpulse_sentiment.encoder import Encoder
from cxpulse_sentiment.model import ARTIFACTS

from .. import train as heads
from .data import Split, load_cs_synth, load_goemotions
from .metrics import polarity_report
from .real_data import SOURCES, load_aux, load_real


def vader_features(texts: list[str]) -> np.ndarray:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    scores = [sia.polarity_scores(t) for t in texts]
    return np.array([[s["compound"], s["neg"], s["pos"], abs(s["compound"])] for s in scores])


def dev_f1(x_train: np.ndarray, y_train: np.ndarray, w_train: np.ndarray, x_dev: np.ndarray, y_dev: np.ndarray,
           c: float) -> float:
    clf = LogisticRegression(C=c, max_iter=3000).fit(x_train, y_train, sample_weight=w_train)
    logits = x_dev @ clf.coef_.T + clf.intercept_
    logits = logits / heads.fit_temperature(logits, y_dev, np.ones(len(y_dev)))
    bn, bp = heads.fit_offsets(logits, y_dev)
    return polarity_report(np.eye(3)[(logits + np.array([bn, 0.0, bp])).argmax(1)], y_dev)["macro_f1"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--probe", choices=["vader", "dynasent", "both"], default="both")
    ap.add_argument("--cache", type=Path, default=Path(__file__).resolve().parents[3] / "out" / "emb-cache",
                    help="embedding cache, shared with `cxpulse train sentiment`")
    args = ap.parse_args(argv)
    enc = Encoder.from_dir(ARTIFACTS)
    key = hashlib.sha256((ARTIFACTS / "encoder.onnx").read_bytes()).hexdigest() + "/b1"  # as train.py caches
    train: dict[str, Split] = {  # the shipped heads' training rows, and DynaSent's
        "goemotions": heads.sample(load_goemotions("train"), heads.GOEMOTIONS_TRAIN_N),
        "cs-synth": heads.sample(load_cs_synth("train"), heads.CS_SYNTH_TRAIN_N),
        **{s: load_real(s, "train") for s in SOURCES}, "dynasent": load_aux("dynasent")}
    dev = [load_real(s, "dev") for s in SOURCES]
    emb = {n: heads.embed_cached(enc, split, args.cache, key) for n, split in train.items()}
    x_dev = np.vstack([heads.embed_cached(enc, d, args.cache, key) for d in dev])
    y_dev = np.concatenate([d.arrays()[0] for d in dev])

    def grid(label: str, x: dict[str, np.ndarray], x_dev_: np.ndarray, source_w: dict[str, float]) -> None:
        """train.py's C x real-weight grid on the sources in `x` (name -> inputs); `source_w` overrides a weight."""
        ys = {n: train[n].arrays()[0] for n in x}
        for c, real_w in heads.GRID:
            # as train.py: real sources at the grid's weight, GoEmotions and synthetic CS at 1
            ws = [heads.balanced_weights(ys[n], source_w.get(n, real_w if n in SOURCES else 1.0)) for n in x]
            f1 = dev_f1(np.vstack(list(x.values())), np.concatenate(list(ys.values())), np.concatenate(ws),
                        x_dev_, y_dev, c)
            print(f"{label:<22} C={c:<4} real_weight={real_w:<4} real dev macro-F1 {f1:.4f}", flush=True)

    base = ["goemotions", "cs-synth", *SOURCES]
    if args.probe in ("vader", "both"):
        lex = {n: vader_features(train[n].texts) for n in base}
        lex_dev = vader_features([t for d in dev for t in d.texts])
        grid("vader x0 (as shipped)", {n: emb[n] for n in base}, x_dev, {})
        for scale in (0.3, 1.0):
            grid(f"vader x{scale}", {n: np.hstack([emb[n], scale * lex[n]]) for n in base},
                 np.hstack([x_dev, scale * lex_dev]), {})
    if args.probe in ("dynasent", "both"):
        for weight in (0.5, 1.0, 3.0):
            grid(f"dynasent weight {weight}", {n: emb[n] for n in [*base, "dynasent"]}, x_dev, {"dynasent": weight})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
