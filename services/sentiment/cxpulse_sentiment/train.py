"""Rebuild the sentiment + emotion heads from the data in the repo, on the embeddings of the shipped encoder.

    /work/main/.venv/bin/python -m cxpulse_sentiment.train            # writes artifacts/heads.npz + metrics.json

Fit on GoEmotions-train + synthetic CS train; choose C and the CS weight on dev (GoEmotions-dev + the
held-out-template CS dev); fit temperature / Platt calibration on dev; report on GoEmotions-test and the
hand-written CS test set (never used for any choice).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from .encoder import Encoder
from .heads import EMOTIONS, Heads
from .model import ARTIFACTS
from .training.data import Split, load_cs_synth, load_cs_test, load_goemotions
from .training.feedback import polarity_rows
from .training.metrics import emotion_report, polarity_report

HEADS_VERSION = "heads-2026.11.1"
GRID = [(c, w) for c in (0.5, 2.0, 8.0) for w in (1.0, 3.0)]


def embed_cached(enc: Encoder, split: Split, cache: Path, key: str) -> np.ndarray:
    h = hashlib.sha256((key + "\n".join(split.texts)).encode()).hexdigest()[:16]
    path = cache / f"{split.name}-{h}.npy"
    if path.exists():
        return np.load(path)
    x = enc.embed(split.texts)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, x)
    return x


def balanced_weights(y: np.ndarray, domain_weight: float) -> np.ndarray:
    # Macro-F1 is the target, so each class gets equal total weight within a data source.
    counts = np.bincount(y, minlength=3).astype(float)
    return domain_weight * (len(y) / (3 * np.maximum(counts, 1)))[y]


def fit_temperature(logits: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    best = (np.inf, 1.0)
    for t in np.exp(np.linspace(np.log(0.25), np.log(4.0), 121)):
        z = logits / t
        z = z - z.max(1, keepdims=True)
        nll = -(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(1)))
        best = min(best, (float((w * nll).sum() / w.sum()), float(t)))
    return best[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--artifacts", type=Path, default=ARTIFACTS, help="dir with encoder.onnx; heads are written here")
    ap.add_argument("--cache", type=Path, default=Path(__file__).resolve().parents[1] / "out" / "emb-cache")
    ap.add_argument("--feedback", metavar="FILE_OR_TOPIC", help="also train the polarity head on supervisors' label "
                    "corrections (cx.feedback.labels or an exported JSONL; see training/feedback.py)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    enc = Encoder.from_dir(args.artifacts)  # embeddings exactly as served (same texts per ONNX call)
    key = hashlib.sha256((args.artifacts / "encoder.onnx").read_bytes()).hexdigest() + f"/b{enc.batch_size}"
    splits = {s.name: s for s in [load_goemotions("train"), load_goemotions("dev"), load_goemotions("test"),
                                  load_cs_synth("train"), load_cs_synth("dev"), load_cs_test()]}
    emb = {n: embed_cached(enc, s, args.cache, key) for n, s in splits.items()}
    gold = {n: s.arrays() for n, s in splits.items()}
    t_embed = time.perf_counter() - t0
    ge, cs = "goemotions", "cs-synth"
    xtr = np.vstack([emb[f"{ge}-train"], emb[f"{cs}-train"]])
    ytr = np.concatenate([gold[f"{ge}-train"][0], gold[f"{cs}-train"][0]])
    etr = np.vstack([gold[f"{ge}-train"][1], gold[f"{cs}-train"][1]])
    xdev = np.vstack([emb[f"{ge}-dev"], emb[f"{cs}-dev"]])
    ydev = np.concatenate([gold[f"{ge}-dev"][0], gold[f"{cs}-dev"][0]])
    edev = np.vstack([gold[f"{ge}-dev"][1], gold[f"{cs}-dev"][1]])
    # Dev weights: both sources count equally, so GoEmotions' size doesn't dominate calibration.
    n_ge = len(gold[f"{ge}-dev"][0])
    wdev = np.concatenate([np.full(n_ge, 1 / n_ge), np.full(len(ydev) - n_ge, 1 / (len(ydev) - n_ge))])

    xfb, yfb, wfb, feedback = polarity_rows(args.feedback, lambda s: embed_cached(enc, s, args.cache, key),
                                            xtr.shape[1], balanced_weights)

    def fit_pol(c: float, w: float) -> LogisticRegression:
        sw = np.concatenate([balanced_weights(gold[f"{ge}-train"][0], 1.0),
                             balanced_weights(gold[f"{cs}-train"][0], w), wfb])
        return LogisticRegression(C=c, max_iter=2000).fit(np.vstack([xtr, xfb]), np.concatenate([ytr, yfb]),
                                                          sample_weight=sw)

    search = []
    for c, w in GRID:
        clf = fit_pol(c, w)
        f_ge = polarity_report(clf.predict_proba(emb[f"{ge}-dev"]), gold[f"{ge}-dev"][0])["macro_f1"]
        f_cs = polarity_report(clf.predict_proba(emb[f"{cs}-dev"]), gold[f"{cs}-dev"][0])["macro_f1"]
        search.append({"C": c, "cs_weight": w, "goemotions_dev_f1": f_ge, "cs_synth_dev_f1": f_cs})
        print(search[-1], flush=True)
    best = max(search, key=lambda s: (s["goemotions_dev_f1"] + s["cs_synth_dev_f1"]) / 2)
    pol = fit_pol(best["C"], best["cs_weight"])
    temp = fit_temperature(xdev @ pol.coef_.T + pol.intercept_, ydev, wdev)

    cs_rows = np.r_[np.zeros(len(gold[f"{ge}-train"][0])), np.ones(len(gold[f"{cs}-train"][0]))].astype(bool)
    emo_w, emo_b, scale, shift = [], [], [], []
    for k in range(len(EMOTIONS)):
        sw = np.where(cs_rows, best["cs_weight"], 1.0)
        m = LogisticRegression(C=best["C"], max_iter=2000).fit(xtr, etr[:, k], sample_weight=sw)
        z = (xdev @ m.coef_.T + m.intercept_).reshape(-1, 1)
        platt = LogisticRegression(C=1e4).fit(z, edev[:, k], sample_weight=wdev * len(wdev))
        emo_w.append(m.coef_[0]), emo_b.append(m.intercept_[0])
        scale.append(platt.coef_[0, 0]), shift.append(platt.intercept_[0])
    heads = Heads(pol.coef_, pol.intercept_, temp, np.array(emo_w), np.array(emo_b), np.array(scale),
                  np.array(shift), version=HEADS_VERSION)
    heads.save(args.artifacts / "heads.npz")

    report = {"heads_version": HEADS_VERSION, "search": search, "chosen": best, "temperature": round(temp, 4),
              "embed_seconds": round(t_embed, 1), "train_seconds": round(time.perf_counter() - t0 - t_embed, 1),
              "feedback": feedback, "splits": {}}
    for name in [f"{ge}-test", f"{cs}-dev", "cs-test"]:
        y, e = gold[name]
        report["splits"][name] = {"polarity": polarity_report(heads.polarity_proba(emb[name]), y),
                                  "emotions": emotion_report(heads.emotion_proba(emb[name]), e)}
        print(name, "macro-F1", report["splits"][name]["polarity"]["macro_f1"], flush=True)
    (args.artifacts / "metrics.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"embed {t_embed:.0f}s, fit+eval {report['train_seconds']:.0f}s -> {args.artifacts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
