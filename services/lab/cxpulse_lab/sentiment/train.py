"""Rebuild the sentiment + emotion heads on the embeddings of the shipped (fine-tuned, int8) encoder.

    python -m cxpulse_lab.sentiment.train            # writes artifacts/heads.npz + metrics.json

Polarity is fitted on real labelled text (train splits of training/real_data.py) + synthetic CS train + a fixed
sample of GoEmotions train. C and the weight of the real rows are chosen by macro-F1 on the **real-text dev
split**; the temperature and the negative/positive logit offsets are fitted on the same real dev split. Emotions
are fitted on the rows that carry emotion labels (GoEmotions, synthetic CS) and Platt-scaled on their dev splits.
Reported on the held-out real test split (per source and pooled), GoEmotions test and the hand-written CS test,
none of which is used for any choice.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from tqdm import tqdm

from cxpulse_sentiment.encoder import Encoder
from cxpulse_sentiment.heads import EMOTIONS, Heads
from cxpulse_sentiment.model import ARTIFACTS

from .training.data import Split, load_cs_synth, load_cs_test, load_goemotions
from .training.feedback import polarity_rows
from .training.metrics import emotion_report, polarity_report
from .training.real_data import SOURCES, load_real, load_real_pooled

HEADS_VERSION = "heads-2026.12.2"
GRID = [(c, w) for c in (0.5, 2.0, 8.0) for w in (1.0, 3.0)]
# Fixed samples of the two big training sets: the rest adds embedding time, not accuracy on customer text.
GOEMOTIONS_TRAIN_N = 8000
CS_SYNTH_TRAIN_N = 6000


def embed_cached(enc: Encoder, split: Split, cache: Path, key: str) -> np.ndarray:
    h = hashlib.sha256((key + "\n".join(split.texts)).encode()).hexdigest()[:16]
    path = cache / f"{split.name}-{h}.npy"
    if path.exists():
        return np.load(path)
    x = np.vstack([enc.embed(split.texts[i:i + 256]) for i in
                   tqdm(range(0, len(split.texts), 256), desc=f"embedding {split.name}", unit="chunk")])
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, x)
    return x


def sample(split: Split, n: int, seed: int = 7) -> Split:
    idx = sorted(random.Random(seed).sample(range(len(split.texts)), min(n, len(split.texts))))
    return Split(split.name + f"-{n}", [split.texts[i] for i in idx], [split.y[i] for i in idx],
                 [split.emo[i] for i in idx])


def balanced_weights(y: np.ndarray, domain_weight: float) -> np.ndarray:
    # Macro-F1 is the target, so each class gets equal total weight within a data source.
    counts = np.bincount(y, minlength=3).astype(float)
    present = max(int((counts > 0).sum()), 1)
    return domain_weight * (len(y) / (present * np.maximum(counts, 1)))[y]


def fit_temperature(logits: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    best = (np.inf, 1.0)
    for t in np.exp(np.linspace(np.log(0.25), np.log(4.0), 121)):
        z = logits / t
        z = z - z.max(1, keepdims=True)
        nll = -(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(1)))
        best = min(best, (float((w * nll).sum() / w.sum()), float(t)))
    return best[1]


def fit_offsets(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Offsets added to the negative and positive logits (neutral fixed) that maximise dev macro-F1; among
    near-equal scores the smallest shift wins, so the offsets only move where dev clearly asks for it."""
    grid = np.round(np.arange(-1.0, 1.001, 0.1), 2)
    scored = []
    for bn in grid:
        for bp in grid:
            pred = (logits + np.array([bn, 0.0, bp])).argmax(1)
            scored.append((round(float(f1_score(y, pred, average="macro")), 3), -(abs(bn) + abs(bp)), bn, bp))
    _, _, bn, bp = max(scored)
    return float(bn), float(bp)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--artifacts", type=Path, default=ARTIFACTS, help="dir with encoder.onnx; heads are written here")
    ap.add_argument("--cache", type=Path, default=Path(__file__).resolve().parents[2] / "out" / "emb-cache")
    ap.add_argument("--feedback", metavar="FILE_OR_TOPIC", help="also train the polarity head on supervisors' label "
                    "corrections (cx.feedback.labels or an exported JSONL; see training/feedback.py)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    enc = Encoder.from_dir(args.artifacts)  # embeddings exactly as served (same texts per ONNX call)
    key = hashlib.sha256((args.artifacts / "encoder.onnx").read_bytes()).hexdigest() + "/b1"  # one text per ONNX call
    ge, cs = "goemotions", "cs-synth"
    splits = {f"{ge}-train": sample(load_goemotions("train"), GOEMOTIONS_TRAIN_N), f"{ge}-dev": load_goemotions("dev"),
              f"{ge}-test": load_goemotions("test"), f"{cs}-train": sample(load_cs_synth("train"), CS_SYNTH_TRAIN_N),
              f"{cs}-dev": load_cs_synth("dev"), "cs-test": load_cs_test(),
              **{f"{src}-{part}": load_real(src, part) for src in SOURCES for part in ("train", "dev", "test")}}
    emb = {n: embed_cached(enc, s, args.cache, key) for n, s in splits.items()}
    gold = {n: s.arrays() for n, s in splits.items()}
    t_embed = time.perf_counter() - t0

    def pooled(part: str) -> tuple[np.ndarray, np.ndarray]:
        return (np.vstack([emb[f"{s}-{part}"] for s in SOURCES]),
                np.concatenate([gold[f"{s}-{part}"][0] for s in SOURCES]))

    xr_tr, yr_tr = pooled("train")
    xr_dev, yr_dev = pooled("dev")
    xtr = np.vstack([emb[f"{ge}-train"], emb[f"{cs}-train"], xr_tr])
    ytr = np.concatenate([gold[f"{ge}-train"][0], gold[f"{cs}-train"][0], yr_tr])

    xfb, yfb, wfb, feedback = polarity_rows(args.feedback, lambda s: embed_cached(enc, s, args.cache, key),
                                            xtr.shape[1], balanced_weights)

    def fit_pol(c: float, w: float) -> LogisticRegression:
        sw = np.concatenate([balanced_weights(gold[f"{ge}-train"][0], 1.0),
                             balanced_weights(gold[f"{cs}-train"][0], 1.0),
                             *[balanced_weights(gold[f"{s}-train"][0], w) for s in SOURCES], wfb])
        return LogisticRegression(C=c, max_iter=3000).fit(np.vstack([xtr, xfb]), np.concatenate([ytr, yfb]),
                                                          sample_weight=sw)

    search = []
    for c, w in tqdm(GRID, desc="heads grid (real dev)"):
        clf = fit_pol(c, w)
        search.append({"C": c, "real_weight": w,
                       "real_dev_f1": polarity_report(clf.predict_proba(xr_dev), yr_dev)["macro_f1"],
                       "cs_synth_dev_f1": polarity_report(clf.predict_proba(emb[f"{cs}-dev"]),
                                                          gold[f"{cs}-dev"][0])["macro_f1"]})
    best = max(search, key=lambda s: s["real_dev_f1"])  # selection on real text only
    pol = fit_pol(best["C"], best["real_weight"])
    dev_logits = xr_dev @ pol.coef_.T + pol.intercept_
    temp = fit_temperature(dev_logits, yr_dev, np.ones(len(yr_dev)))
    bn, bp = fit_offsets(dev_logits / temp, yr_dev)
    pol_b = pol.intercept_ + temp * np.array([bn, 0.0, bp])  # heads divide (xW + b) by T

    # Emotions: only rows that carry emotion labels (the real sources have none).
    xe = np.vstack([emb[f"{ge}-train"], emb[f"{cs}-train"]])
    etr = np.vstack([gold[f"{ge}-train"][1], gold[f"{cs}-train"][1]])
    xedev = np.vstack([emb[f"{ge}-dev"], emb[f"{cs}-dev"]])
    edev = np.vstack([gold[f"{ge}-dev"][1], gold[f"{cs}-dev"][1]])
    n_ge = len(gold[f"{ge}-dev"][0])
    # Dev weights: both sources count equally, so GoEmotions' size doesn't dominate calibration.
    wdev = np.concatenate([np.full(n_ge, 1 / n_ge), np.full(len(edev) - n_ge, 1 / (len(edev) - n_ge))])
    emo_w, emo_b, scale, shift = [], [], [], []
    for k in tqdm(range(len(EMOTIONS)), desc="emotion heads"):
        m = LogisticRegression(C=best["C"], max_iter=3000).fit(xe, etr[:, k])
        z = (xedev @ m.coef_.T + m.intercept_).reshape(-1, 1)
        platt = LogisticRegression(C=1e4).fit(z, edev[:, k], sample_weight=wdev * len(wdev))
        emo_w.append(m.coef_[0]), emo_b.append(m.intercept_[0])
        scale.append(platt.coef_[0, 0]), shift.append(platt.intercept_[0])
    heads = Heads(pol.coef_, pol_b, temp, np.array(emo_w), np.array(emo_b), np.array(scale),
                  np.array(shift), version=HEADS_VERSION)
    heads.save(args.artifacts / "heads.npz")

    report = {"heads_version": HEADS_VERSION, "search": search, "chosen": best, "temperature": round(temp, 4),
              "logit_offsets": {"negative": bn, "positive": bp},
              "train_rows": {n: len(gold[n][0]) for n in gold if n.endswith("-train")},
              "embed_seconds": round(t_embed, 1), "train_seconds": round(time.perf_counter() - t0 - t_embed, 1),
              "feedback": feedback, "splits": {}}
    real_test = load_real_pooled("test")
    emb["real-test"] = np.vstack([emb[f"{s}-test"] for s in SOURCES])
    gold["real-test"] = real_test.arrays()
    emb["real-dev"], gold["real-dev"] = xr_dev, (yr_dev, np.zeros((len(yr_dev), len(EMOTIONS)), dtype=np.int64))
    names = ["real-test", *[f"{s}-test" for s in SOURCES], "cs-test", f"{ge}-test", "real-dev", f"{cs}-dev"]
    for name in names:
        y, e = gold[name]
        entry: dict = {"polarity": polarity_report(heads.polarity_proba(emb[name]), y)}
        if e.any():
            entry["emotions"] = emotion_report(heads.emotion_proba(emb[name]), e)
        report["splits"][name] = entry
        print(f"{name:<20} macro-F1 {entry['polarity']['macro_f1']:.4f}", flush=True)
    (args.artifacts / "metrics.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"embed {t_embed:.0f}s, fit+eval {report['train_seconds']:.0f}s -> {args.artifacts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
