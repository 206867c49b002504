"""Measure the two serving options in SentimentModel.predict: length-sorted batching and the short-turn LRU cache.

    .venv/bin/python -m cxpulse_sentiment.training.bench_options     # from the repository root
"""

from __future__ import annotations

import json
import random
import statistics
import time

from ..model import SentimentModel
from .data import load_cs_test, load_goemotions

ACKS = ["yes", "okay", "ok", "thank you", "thanks", "no", "right", "yeah", "sure", "hello?", "mm-hmm", "thanks, bye"]


def timed(model: SentimentModel, texts: list[str], chunk: int, repeats: int = 3) -> float:
    runs = []
    for _ in range(repeats):
        model._cache.clear()
        t0 = time.perf_counter()
        for i in range(0, len(texts), chunk):
            model.predict(texts[i:i + chunk])
        runs.append(len(texts) / (time.perf_counter() - t0))
    return round(statistics.median(runs), 1)


def main() -> int:
    rng = random.Random(0)
    mixed = load_cs_test().texts + load_goemotions("test").texts[:1100]
    rng.shuffle(mixed)  # realistic spread of lengths: 1 to ~70 tokens
    with_acks = [rng.choice(ACKS) if rng.random() < 0.2 else t for t in mixed]  # ~20% short acknowledgements
    res = {}
    for sort in (False, True):
        m = SentimentModel.load(cache_size=0)
        m.encoder.sort_by_length = sort
        res[f"sort_by_length={sort}"] = {f"chunk{c}": timed(m, mixed, c) for c in (64, len(mixed))}
    for size in (0, 4096):
        m = SentimentModel.load(cache_size=size)
        res[f"cache_size={size} (20% acks)"] = {"chunk64": timed(m, with_acks, 64)}
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
