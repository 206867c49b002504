"""Raw-encoder throughput of two artifact folders in the same process, interleaved (A, B, A, B, ...), medians:
the only fair comparison on a shared machine whose speed swings between runs.

    python -m cxpulse_lab.sentiment.training.bench_ab OLD_ARTIFACTS NEW_ARTIFACTS [--rounds 5] [--n 1500]

Uses bench_model.measure (the `make bench` raw-model measurement: 32 texts per predict call, one per ONNX call
for the int8 encoders) on the same realistic utterances.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from cxpulse_sentiment.model import SentimentModel

from ..bench_model import measure


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=1500)
    args = ap.parse_args(argv)
    models = {str(d): SentimentModel.load(d) for d in (args.a, args.b)}
    runs: dict[str, list[dict]] = {d: [] for d in models}
    for _ in range(args.rounds):
        for d, m in models.items():
            runs[d].append(measure(m.predict, args.n, 32, repeats=1, single=100))
    out = {}
    for d, rs in runs.items():
        out[d] = {"model": models[d].version,
                  "throughput_per_s": round(statistics.median(r["throughput_per_s"] for r in rs), 1),
                  "latency_p50_ms": round(statistics.median(r["latency_p50_ms"] for r in rs), 2),
                  "all_throughput": [r["throughput_per_s"] for r in rs]}
    a, b = (out[str(d)]["throughput_per_s"] for d in (args.a, args.b))
    out["ratio_b_over_a"] = round(b / a, 3)
    # Paired per round (A and B measured back to back), which cancels most of the machine's drift.
    ra, rb = runs[str(args.a)], runs[str(args.b)]
    out["median_round_ratio_b_over_a"] = round(statistics.median(
        y["throughput_per_s"] / x["throughput_per_s"] for x, y in zip(ra, rb, strict=True)), 3)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
