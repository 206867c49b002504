"""`cxpulse evaluate sentiment [--data FILE.jsonl] [--out FILE.json]`: score labelled text with the shipped model
(ONNX Runtime + numpy heads, as served: no torch).

Without --data: the held-out test splits of MODEL_CARD.md's results table, which no training, selection or
calibration step reads: the real test split (VADER amazon and tweets, UCI amazon_cells and yelp; pooled and per
source, `training/real_data.py`) and the hand-written CS test set. Each split's macro-F1 is printed beside the one
recorded in the artifacts' metrics.json (written by `cxpulse train sentiment`), so a run shows whether the shipped
model still scores what its card says.

With --data: one JSON object per line with a string `text` and a `label` in negative / neutral / positive (blank lines
are skipped; other fields are ignored). Every line is checked before anything is scored: a missing file, a line
that is not a JSON object, a line without `text` or `label`, or an unknown label stops with a clear message and
exit status 2, naming the line. Prints per-class precision / recall / F1, macro-F1, accuracy and the confusion
matrix; `--out` writes the same as JSON (plus the calibration table).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO

import numpy as np

from cxpulse_sentiment.heads import POLARITY
from cxpulse_sentiment.model import ARTIFACTS, SentimentModel

from .training.data import load_cs_test
from .training.metrics import polarity_report
from .training.real_data import SOURCES, load_real


class DataError(ValueError):
    """A labelled file that cannot be evaluated; the message names the file and line."""


def read_labelled(path: Path) -> tuple[list[str], np.ndarray]:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    texts, labels = [], []
    with path.open(encoding="utf-8") as f:
        for lineno, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                rec = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise DataError(f"{where}: invalid JSON ({exc.msg})") from None
            if not isinstance(rec, dict):
                raise DataError(f"{where}: expected a JSON object with \"text\" and \"label\"")
            if not isinstance(rec.get("text"), str) or not rec["text"].strip():
                raise DataError(f"{where}: no non-empty string \"text\" field")
            if "label" not in rec:
                raise DataError(f"{where}: no \"label\" field")
            label = rec["label"]
            if label not in POLARITY:
                raise DataError(f"{where}: unknown label {label!r} (expected one of {', '.join(POLARITY)})")
            texts.append(rec["text"])
            labels.append(POLARITY.index(label))
    if not texts:
        raise DataError(f"{path}: no labelled lines")
    return texts, np.array(labels, dtype=np.int64)


def format_report(report: dict, out: IO[str]) -> None:
    pc = report["per_class"]
    out.write(f"n={report['n']}  macro-F1 {report['macro_f1']:.4f}  accuracy {report['accuracy']:.4f}  "
              f"ECE {report['ece']:.4f}\n\n")
    out.write(f"{'class':<10}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>10}\n")
    for name in POLARITY:
        c = pc[name]
        out.write(f"{name:<10}{c['p']:>10.3f}{c['r']:>10.3f}{c['f1']:>10.3f}{c['support']:>10}\n")
    out.write("\nconfusion matrix (rows = gold, columns = predicted)\n")
    out.write(f"{'':<10}" + "".join(f"{n:>10}" for n in POLARITY) + "\n")
    for name, row in zip(POLARITY, report["confusion"], strict=True):
        out.write(f"{name:<10}" + "".join(f"{v:>10}" for v in row) + "\n")


def held_out_report(model: SentimentModel, artifacts: Path, out: IO[str]) -> dict:
    """Every held-out test split (pooled real, each real source, CS test) against metrics.json's record."""
    recorded = {}
    metrics = artifacts / "metrics.json"
    if metrics.is_file():
        recorded = {name: split["polarity"]["macro_f1"]
                    for name, split in json.loads(metrics.read_text()).get("splits", {}).items()}
    splits = {f"{source}-test": load_real(source, "test") for source in SOURCES} | {"cs-test": load_cs_test()}
    proba = {name: model.predict_proba(split.texts) for name, split in splits.items()}
    gold = {name: split.arrays()[0] for name, split in splits.items()}
    real = [f"{source}-test" for source in SOURCES]
    proba["real-test"] = np.vstack([proba[name] for name in real])
    gold["real-test"] = np.concatenate([gold[name] for name in real])
    report: dict = {"model": model.version, "splits": {}}
    out.write(f"model {model.version}, held-out test splits\n\n"
              f"{'split':<20}{'n':>7}{'macro-F1':>10}{'recorded':>10}{'accuracy':>10}\n")
    for name in ["real-test", *real, "cs-test"]:
        split = polarity_report(proba[name], gold[name])
        split["recorded_macro_f1"] = recorded.get(name)
        report["splits"][name] = split
        shown = f"{recorded[name]:.4f}" if name in recorded else "-"
        out.write(f"{name:<20}{split['n']:>7}{split['macro_f1']:>10.4f}{shown:>10}{split['accuracy']:>10.4f}\n")
    out.write("\nreal-test (pooled): ")
    format_report(report["splits"]["real-test"], out)
    return report


def main(argv: list[str] | None = None, stdout: IO[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cxpulse evaluate sentiment", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None,
                    help="JSONL with text and label (default: the held-out test splits)")
    ap.add_argument("--out", type=Path, default=None, help="also write the report as JSON here")
    ap.add_argument("--artifacts", type=Path, default=None, help="another trained artifact folder")
    args = ap.parse_args(argv)
    out = stdout or sys.stdout
    if args.data is None:
        model = SentimentModel.load(args.artifacts)
        report = held_out_report(model, args.artifacts or ARTIFACTS, out)
    else:
        try:
            texts, y = read_labelled(args.data)
        except DataError as exc:
            print(f"cxpulse evaluate sentiment: {exc}", file=sys.stderr)
            return 2
        model = SentimentModel.load(args.artifacts)
        proba = model.predict_proba(texts)
        report = {"model": model.version, "data": str(args.data), **polarity_report(proba, y)}
        out.write(f"model {model.version} on {args.data}\n")
        format_report(report, out)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
