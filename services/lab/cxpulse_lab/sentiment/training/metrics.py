"""Evaluation metrics used by train.py and the serving comparison (sklearn is fine here: training only)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support, roc_auc_score

from cxpulse_sentiment.heads import EMOTIONS, POLARITY


def ece(proba: np.ndarray, y: np.ndarray, bins: int = 10) -> tuple[float, list[dict]]:
    """Top-label expected calibration error + the reliability table (equal-width confidence bins)."""
    conf, pred = proba.max(1), proba.argmax(1)
    edges = np.linspace(1 / proba.shape[1], 1.0, bins + 1)
    table, total = [], 0.0
    for lo, hi in pairwise(edges):
        m = (conf >= lo) & ((conf < hi) | (hi == 1.0))
        if m.any():
            acc, c = float((pred[m] == y[m]).mean()), float(conf[m].mean())
            total += m.mean() * abs(acc - c)
            table.append({"bin": f"{lo:.2f}-{hi:.2f}", "n": int(m.sum()), "confidence": round(c, 3),
                          "accuracy": round(acc, 3)})
    return float(total), table


def polarity_report(proba: np.ndarray, y: np.ndarray) -> dict:
    pred = proba.argmax(1)
    p, r, f, n = precision_recall_fscore_support(y, pred, labels=[0, 1, 2], zero_division=0)
    # Macro-F1 over the classes the gold labels use: a binary set (no neutral gold) is scored on its two classes;
    # neutral predictions on it still count, as lost recall of the class they should have been.
    macro = f1_score(y, pred, labels=sorted(set(y.tolist())), average="macro", zero_division=0)
    e, table = ece(proba, y)
    return {
        "n": len(y), "macro_f1": round(float(macro), 4),
        "accuracy": round(float((pred == y).mean()), 4), "ece": round(e, 4),
        "per_class": {POLARITY[i]: {"p": round(float(p[i]), 3), "r": round(float(r[i]), 3), "f1": round(float(f[i]), 3),
                                    "support": int(n[i])} for i in range(3)},
        "confusion": confusion_matrix(y, pred, labels=[0, 1, 2]).tolist(),  # rows gold, columns predicted
        "reliability": table,
    }


def emotion_report(proba: np.ndarray, emo: np.ndarray, threshold: float = 0.5) -> dict:
    out = {}
    for k, name in enumerate(EMOTIONS):
        yk, pk = emo[:, k], proba[:, k]
        if yk.sum() == 0:
            continue
        p, r, f, _ = precision_recall_fscore_support(yk, pk >= threshold, average="binary", zero_division=0)
        out[name] = {"support": int(yk.sum()), "auc": round(float(roc_auc_score(yk, pk)), 3) if yk.min() == 0 else None,
                     "p@0.5": round(float(p), 3), "r@0.5": round(float(r), 3), "f1@0.5": round(float(f), 3)}
    f1s = [v["f1@0.5"] for v in out.values()]
    out["macro_f1@0.5"] = round(float(np.mean(f1s)), 4) if f1s else None
    return out
