"""Evaluate the churn model on held-out simulated accounts.

`python -m cxpulse_lab.churn.evaluate [--retrain] [--out out/churn]` writes
<out>/eval.json and <out>/reliability.png and prints the metrics. The held-out
accounts come from a seed the training run never used (training seed + 1000),
so no account or random stream is shared with training. --retrain first trains
a fresh model into <out>/model with the recorded settings: one command
reproduces everything.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from cxpulse_churn.features import FEATURE_NAMES
from cxpulse_churn.model import BANDS, ChurnModel
from cxpulse_lab.churn import train
from cxpulse_lab.churn.dataset import from_examples
from cxpulse_lab.churn.simulator import simulate

HOLDOUT_SEED_OFFSET = 1000


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Equal-count bins: with ~2% positives, equal-width bins would be nearly all empty."""
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, bins):
        out.append({"n": int(chunk.size), "mean_predicted": round(float(p[chunk].mean()), 5),
                    "observed_rate": round(float(y[chunk].mean()), 5)})
    return out


def plot(curve: list[dict[str, float]], path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")  # headless: no display on servers or CI
    import matplotlib.pyplot as plt

    x = [b["mean_predicted"] for b in curve]
    y = [b["observed_rate"] for b in curve]
    hi = max(max(x), max(y)) * 1.05
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, hi], [0, hi], "--", color="grey", label="perfectly calibrated")
    ax.plot(x, y, "o-", label="model (deciles of predicted risk)")
    ax.set(xlabel="mean predicted 30-day churn probability", ylabel="observed churn rate",
           title=title, xlim=(0, hi), ylim=(0, hi))
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def evaluate(model: ChurnModel, n_accounts: int, seed: int) -> dict[str, Any]:
    examples = simulate(n_accounts, seed)
    table = from_examples(examples)
    p = model.predict_proba(table.x)
    y = table.y
    bands = np.searchsorted(model.thresholds, p, side="right")
    gain = model.booster.feature_importance("gain")
    oracle = np.array([e.hazard for e in examples])
    return {
        "model_version": model.version,
        "holdout": {"source": "simulated", "n_accounts": n_accounts, "seed": seed},
        "metrics": train.metrics(y, p),
        "oracle_latent_hazard": train.metrics(y, oracle),  # ceiling: the simulator's true risk
        "calibration": model.meta.get("calibration"),
        "reliability": reliability(y, p),
        "bands": {BANDS[b]: {"accounts": int((bands == b).sum()),
                             "churn_rate": round(float(y[bands == b].mean()), 4) if (bands == b).any() else None}
                  for b in range(len(BANDS))},
        "feature_importance_gain": dict(sorted(
            ((f, round(float(g) / float(gain.sum()), 4)) for f, g in zip(FEATURE_NAMES, gain, strict=True)),
            key=lambda kv: -kv[1])),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cxpulse evaluate churn", description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, help="model .txt (default: packaged artifact)")
    ap.add_argument("--out", type=Path, default=Path("out/churn"))
    ap.add_argument("--accounts", type=int, default=60_000, help="held-out simulated accounts")
    ap.add_argument("--retrain", action="store_true", help="train a fresh model into <out>/model first")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    model_path = args.model
    if args.retrain:
        if train.main(["--out", str(args.out / "model")]) != 0:
            return 1
        model_path = args.out / "model"
    model = ChurnModel.load(model_path)
    seed = int(model.meta["training_data"].get("seed", train.DEFAULT_SEED)) + HOLDOUT_SEED_OFFSET
    report = evaluate(model, args.accounts, seed)
    png = args.out / "reliability.png"
    plot(report["reliability"], png, f"Churn reliability, held-out simulated\n{model.version}")
    report["reliability_plot"] = str(png)
    (args.out / "eval.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
