"""Raw-model benchmark: throughput at a batch size, single-utterance latency, RSS.

    python -c "from cxpulse_lab.sentiment.bench_model import run; print(run())"
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

UTTERANCES = [
    "I've been on hold for over an hour and still nobody can tell me where my refund is",
    "Hi, I'd like to change the delivery address on my order before it ships please",
    "Thank you so much for sorting that out, the internet is working perfectly again",
    "um yeah so the engineer was supposed to come this morning and nobody turned up",
    "Can you tell me why my bill went up by twenty pounds this month",
    "My card was declined at the supermarket even though there is money in my account",
    "Okay, and how long will it take for the replacement card to arrive at my house",
    "The flight was cancelled last night and I still haven't been offered a new one",
    "That's brilliant, you've been really helpful and patient with me today, thanks again",
    "We are on version four of the desktop app and the export button is missing",
    "I'm really worried because there's a payment on my statement that I didn't make",
    "Could you confirm the first line of your address and your date of birth for me",
    "the parcel says it was delivered yesterday but there is nothing at my front door",
    "I'm not sure I understand the difference between the deductible and the copay here",
    "Great news, I've applied a credit to your account and the late fee has been removed",
    "This is the third time I've called about the same problem and it is still broken",
]


def texts_for(n: int) -> list[str]:
    """A fixed, realistic set of 8-25-word utterances, cycled to length n."""
    return [UTTERANCES[i % len(UTTERANCES)] for i in range(n)]


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB, from /proc (Linux)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def measure(fn: Callable[[Sequence[str]], object], n: int, batch: int, repeats: int = 3, single: int = 200) -> dict:
    """Median over `repeats` of: throughput over n texts in batches, and p50/p99 of `single` 1-text calls."""
    texts = texts_for(n)
    fn(texts[:batch])  # warm-up: ORT allocates arenas and picks kernels on the first runs
    tput, p50, p99 = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            fn(texts[i:i + batch])
        tput.append(n / (time.perf_counter() - t0))
        lat = []
        for i in range(single):
            t1 = time.perf_counter()
            fn(texts[i:i + 1])
            lat.append((time.perf_counter() - t1) * 1000)
        qs = statistics.quantiles(lat, n=100)
        p50.append(qs[49])
        p99.append(qs[98])
    cur, peak = rss_mb()
    return {"n": n, "batch": batch, "throughput_per_s": round(statistics.median(tput), 1),
            "latency_p50_ms": round(statistics.median(p50), 2), "latency_p99_ms": round(statistics.median(p99), 2),
            "rss_mb": round(cur, 1), "peak_rss_mb": round(peak, 1)}


def run(n: int = 2000, batch: int = 32, artifact_dir: Path | None = None) -> dict:
    from cxpulse_sentiment.model import SentimentModel

    model = SentimentModel.load(artifact_dir)
    result = measure(model.predict, n, batch)
    result["model"] = model.version
    return result


if __name__ == "__main__":
    print(json.dumps(run(*(int(a) for a in sys.argv[1:3]))))
