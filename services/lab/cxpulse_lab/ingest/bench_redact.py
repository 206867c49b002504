"""Redaction on worst-case input: MB/s of Redactor.redact on 64 KB texts built to make a backtracking or quadratic
redactor crawl (digits dictated one by one, card-like groups, separators, '@' after a long word, spoken e-mail
chains, context words repeated), and the time ratio of 256 KB to 64 KB (about 4 when the cost is linear).
`python -m cxpulse_lab.ingest.bench_redact`."""

from __future__ import annotations

import json
import statistics
import time

from cxpulse_ingest.redact import Redactor

WORST = {"dictated digits": "1 ", "digit pairs": "12 ", "card groups": "4111 ", "dashes": "1-", "slashes": "1/",
         "full-width": "１ ", "word then @": "a", "spoken digits": "one two ", "spoken e-mail chain": "a dot ",
         "name context": "my name is ", "birth context": "born 1 ", "ssn context": "social 12 ", "iban-like": "GB82 ",
         "extension": "ext 12 ", "street-like": "1 a b ", "mixed": "4111 1111 one a@b.c "}


def _text(unit: str, size: int) -> str:
    text = (unit * (size // len(unit) + 1))[:size]
    return text + "@" if unit == "a" else text


def _seconds(redactor: Redactor, text: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        redactor.redact(text, carry="bench")
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(size: int = 64 * 1024, runs: int = 5) -> dict[str, object]:
    redactor = Redactor()
    rows = {}
    for name, unit in WORST.items():
        small = _seconds(redactor, _text(unit, size), runs)
        large = _seconds(redactor, _text(unit, size * 4), max(1, runs // 2))
        rows[name] = {"mb_per_s": round(size / small / 1e6, 2), "x4_input_time_ratio": round(large / small, 1)}
    worst = min(rows.values(), key=lambda r: r["mb_per_s"])
    return {"input_bytes": size, "worst_mb_per_s": worst["mb_per_s"],
            "max_x4_time_ratio": max(r["x4_input_time_ratio"] for r in rows.values()), "inputs": rows}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
