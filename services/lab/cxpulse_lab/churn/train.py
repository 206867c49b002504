"""Train the churn model: `python -m cxpulse_lab.churn.train [--simulate | --csv FILE]`.

Writes <out>/churn_model.txt (LightGBM text model) and <out>/churn_model.json
(version, features, monotone constraints, calibration, band thresholds, data
description, held-out metrics). Deterministic for a given dataset and seed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from cxpulse_churn.features import FEATURE_NAMES, MONOTONE
from cxpulse_churn.model import ARTIFACT, calibrate
from cxpulse_lab.churn.dataset import CsvError, Table, from_examples, read_csv, split, write_csv
from cxpulse_lab.churn.simulator import HORIZON_DAYS, simulate

DEFAULT_ACCOUNTS = 60_000
DEFAULT_SEED = 7
# Band cut-offs as shares of validation accounts scored at or above them: a
# retention team can work roughly the top 2% (critical) and 8% (high) a month.
BAND_QUANTILES = {"medium": 0.75, "high": 0.92, "critical": 0.98}


def params(seed: int, threads: int) -> dict[str, Any]:
    return {
        "objective": "binary", "learning_rate": 0.05, "num_leaves": 7, "min_data_in_leaf": 100,
        "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
        # Guarantees risk is monotone in each feature in its domain direction (features.MONOTONE).
        "monotone_constraints": [MONOTONE[f] for f in FEATURE_NAMES],
        "monotone_constraints_method": "intermediate",
        "seed": seed, "deterministic": True, "force_col_wise": True,
        "num_threads": threads, "verbose": -1,
    }


def metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "rows": len(y), "positive_rate": round(float(y.mean()), 5),
        "roc_auc": round(float(roc_auc_score(y, p)), 4),
        "pr_auc": round(float(average_precision_score(y, p)), 4),
        "brier": round(float(brier_score_loss(y, p)), 5),
    }


def _platt(raw: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    lr = LogisticRegression(C=1e6).fit(raw.reshape(-1, 1), y)
    return {"method": "platt", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}


def choose_calibration(raw: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Platt scaling on the validation split, kept only if it beats the raw model out of fold.

    Two-fold check inside the validation split so the decision is not made on
    the data the scaler was fitted to; it must cut Brier by >= 0.5% so noise
    does not decide. A non-positive slope is never kept: it would reverse the
    ranking and break monotonicity.
    """
    half = np.arange(len(y)) % 2 == 0
    raw_b, cal_b = [], []
    for fit_mask in (half, ~half):
        c = _platt(raw[fit_mask], y[fit_mask])
        raw_b.append(brier_score_loss(y[~fit_mask], calibrate(raw[~fit_mask], None)))
        cal_b.append(brier_score_loss(y[~fit_mask], calibrate(raw[~fit_mask], c)))
    c = _platt(raw, y)
    keep = c["a"] > 0 and np.mean(cal_b) < 0.995 * np.mean(raw_b)
    check = {"brier_raw": round(float(np.mean(raw_b)), 6), "brier_platt": round(float(np.mean(cal_b)), 6)}
    return {**c, "out_of_fold": check} if keep else {"method": "none", "out_of_fold": check}


def fit(table: Table, seed: int, threads: int, data: dict[str, Any]) -> tuple[lgb.Booster, dict[str, Any]]:
    tr, va, te = split(table, seed)
    p = params(seed, threads)
    dtrain = lgb.Dataset(table.x[tr], table.y[tr], feature_name=list(FEATURE_NAMES), free_raw_data=False)
    dvalid = lgb.Dataset(table.x[va], table.y[va], reference=dtrain)
    booster = lgb.train(p, dtrain, num_boost_round=600, valid_sets=[dvalid],
                        callbacks=[lgb.early_stopping(50, verbose=False)])
    raw_va = booster.predict(table.x[va], raw_score=True)
    cal = choose_calibration(raw_va, table.y[va])
    p_va = calibrate(raw_va, cal)
    p_te = calibrate(booster.predict(table.x[te], raw_score=True), cal)
    text = booster.model_to_string(num_iteration=booster.best_iteration)
    meta = {
        "version": "churn-lgbm-" + hashlib.sha256(text.encode()).hexdigest()[:10],
        "feature_names": list(FEATURE_NAMES),
        "monotone_constraints": {f: MONOTONE[f] for f in FEATURE_NAMES},
        "band_thresholds": {b: round(float(np.quantile(p_va, q)), 4) for b, q in BAND_QUANTILES.items()},
        "band_quantiles": BAND_QUANTILES,
        "calibration": cal,
        "horizon_days": HORIZON_DAYS,
        "training_data": {**data, "rows": len(table.y), "positive_rate": round(float(table.y.mean()), 5),
                          "split": {"train": len(tr), "valid": len(va), "test": len(te), "by": "account_id"}},
        "lightgbm": {"version": lgb.__version__, "params": p, "num_trees": booster.best_iteration},
        "metrics": {"valid": metrics(table.y[va], p_va), "test": metrics(table.y[te], p_te)},
    }
    return lgb.Booster(model_str=text), meta


def save(booster: lgb.Booster, meta: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / ARTIFACT.name
    booster.save_model(str(model_path))
    model_path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    return model_path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cxpulse train churn", description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--simulate", action="store_true", help="train on simulated accounts (default)")
    src.add_argument("--csv", type=Path, help="train on a CSV of feature rows (see MODEL_CARD.md)")
    ap.add_argument("--accounts", type=int, default=DEFAULT_ACCOUNTS, help="simulated accounts")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ARTIFACT.parent, help="artifact directory")
    ap.add_argument("--write-csv", type=Path, help="write the simulated dataset as CSV and exit")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        if args.csv:
            table, data = read_csv(args.csv), {"source": "csv", "file": args.csv.name}
        else:
            table = from_examples(simulate(args.accounts, args.seed))
            data = {"source": "simulated", "n_accounts": args.accounts, "seed": args.seed,
                    "generator": "cxpulse_lab.churn.simulator"}
    except CsvError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.write_csv:
        write_csv(args.write_csv, table)
        print(f"wrote {len(table.y)} rows to {args.write_csv}")
        return 0
    try:
        booster, meta = fit(table, args.seed, args.threads, data)
    except ValueError as e:  # e.g. a split left without positives
        print(f"error: cannot train: {e}", file=sys.stderr)
        return 2
    path = save(booster, meta, args.out)
    print(json.dumps({"model": str(path), "version": meta["version"], "metrics": meta["metrics"],
                      "seconds": round(time.perf_counter() - t0, 1)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
