"""Anger / frustration threshold for routing's `anger_spike` rule, from the shipped heads' calibration.

    python -m cxpulse_lab.sentiment.training.emotion_check [--precision 0.9] [--out FILE.json]

The rule fires when anger OR frustration of a customer turn reaches `probability`. The threshold is chosen on the
emotion dev splits (GoEmotions dev + synthetic CS dev, weighted equally, as for the Platt scaling): the smallest
t at which max(anger, frustration) >= t has at least `--precision` (0.9) precision for "anger or frustration" (a
critical alert should rarely be wrong) and at least `--real-precision` (2/3) on GoEmotions dev alone, the real
text among them (the synthetic CS dev alone is too easy to say much). Reported on the held-out CS test and
GoEmotions test, and on the real test split, which has no emotion labels: there, how often the rule would fire
on gold-negative vs gold-positive sentences (it should fire on negatives only). Reuses train.py's embedding cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from cxpulse_sentiment.encoder import Encoder
from cxpulse_sentiment.heads import EMOTIONS, Heads
from cxpulse_sentiment.model import ARTIFACTS

from ..train import embed_cached
from .data import load_cs_synth, load_cs_test, load_goemotions
from .real_data import load_real_pooled

ANGRY = [EMOTIONS.index("anger"), EMOTIONS.index("frustration")]


def pr_at(score: np.ndarray, gold: np.ndarray, t: float, w: np.ndarray | None = None) -> tuple[float, float, int]:
    w = np.ones(len(gold)) if w is None else w
    fire = score >= t
    tp = float((w * (fire & gold)).sum())
    p = tp / max(float((w * fire).sum()), 1e-12)
    r = tp / max(float((w * gold).sum()), 1e-12)
    return round(p, 3), round(r, 3), int(fire.sum())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--artifacts", type=Path, default=ARTIFACTS)
    ap.add_argument("--cache", type=Path, default=Path(__file__).resolve().parents[3] / "out" / "emb-cache")
    ap.add_argument("--precision", type=float, default=0.9)
    ap.add_argument("--real-precision", type=float, default=2 / 3,
                    help="precision also required on GoEmotions dev alone (real text; the synthetic dev is easy)")
    ap.add_argument("--also", default="0.75,0.8", help="thresholds also reported on the held-out sets")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    enc = Encoder.from_dir(args.artifacts)
    heads = Heads.load(args.artifacts / "heads.npz")
    key = hashlib.sha256((args.artifacts / "encoder.onnx").read_bytes()).hexdigest() + "/b1"  # one text per ONNX call
    splits = {s.name: s for s in [load_goemotions("dev"), load_cs_synth("dev"), load_goemotions("test"),
                                  load_cs_test(), load_real_pooled("test")]}
    score, gold_angry, y = {}, {}, {}
    for name, split in splits.items():
        p = heads.emotion_proba(embed_cached(enc, split, args.cache, key))
        score[name] = p[:, ANGRY].max(1)
        y[name], emo = split.arrays()
        gold_angry[name] = emo[:, ANGRY].max(1).astype(bool)

    dev_s = np.concatenate([score["goemotions-dev"], score["cs-synth-dev"]])
    dev_g = np.concatenate([gold_angry["goemotions-dev"], gold_angry["cs-synth-dev"]])
    n_ge = len(score["goemotions-dev"])
    w = np.concatenate([np.full(n_ge, 1 / n_ge), np.full(len(dev_s) - n_ge, 1 / (len(dev_s) - n_ge))])
    grid = np.round(np.arange(0.3, 0.96, 0.05), 2)
    curve = []
    for t in grid:
        row = {"t": float(t), **dict(zip(("p", "r", "fired"), pr_at(dev_s, dev_g, t, w), strict=True))}
        for name in ("goemotions-dev", "cs-synth-dev"):
            row[name] = dict(zip(("p", "r", "fired"), pr_at(score[name], gold_angry[name], t), strict=True))
        curve.append(row)
    ok = [c["t"] for c in curve if c["p"] >= args.precision and c["goemotions-dev"]["p"] >= args.real_precision]
    chosen = min(ok) if ok else float(grid[-1])
    report: dict = {"precision_target": args.precision, "real_precision_target": round(args.real_precision, 3),
                    "chosen_threshold": chosen, "dev_curve": curve, "held_out": {}}
    for t in sorted({chosen, *(float(x) for x in args.also.split(","))}):
        for name in ("cs-test", "goemotions-test"):
            p, r, n = pr_at(score[name], gold_angry[name], t)
            report["held_out"][f"{name}@{t}"] = {"p": p, "r": r, "fired": n, "support": int(gold_angry[name].sum())}
        real = score["real-test"] >= t
        report["held_out"][f"real-test@{t}"] = {
            "fires_on_negative": round(float(real[y["real-test"] == 0].mean()), 3),
            "fires_on_neutral": round(float(real[y["real-test"] == 1].mean()), 3),
            "fires_on_positive": round(float(real[y["real-test"] == 2].mean()), 3)}
    print(json.dumps(report["held_out"], indent=1), f"\nchosen threshold {chosen} (dev precision >= {args.precision}, "
          f"GoEmotions dev >= {args.real_precision:.2f})")
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
