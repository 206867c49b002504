"""Score utterances from stdin, one JSON line out per input line, in order, streaming in batches.

Input line: a JSON object with at least "text" (other fields pass through unchanged), or plain text.
Blank lines are skipped. A JSON line that is invalid or has no string "text" produces
{"error": ..., "line": N} in its place, a message on stderr, and exit status 1 at the end (the rest is still scored).

    cat turns.jsonl | python -m cxpulse_sentiment.score_cli [--batch 64] [--artifacts DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO

from .model import SentimentModel


def _parse(line: str) -> tuple[dict | None, str | None]:
    """-> (record, error). Lines that don't start with '{' are plain text."""
    if not line.lstrip().startswith("{"):
        return {"text": line}, None
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg}"
    if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
        return None, 'JSON object has no string "text" field'
    return rec, None


def _flush(model: SentimentModel, pending: list[tuple[int, dict | None, str | None]], out: IO[str]) -> None:
    ok = [rec for _, rec, _ in pending if rec is not None]
    preds = iter(model.predict([r["text"] for r in ok]))
    for lineno, rec, err in pending:
        if rec is None:
            out.write(json.dumps({"error": err, "line": lineno}) + "\n")
            continue
        p = next(preds)
        rec.update(label=p.label, score=round(p.score, 4), score5=round(p.score5, 4),
                   emotions={k: round(v, 4) for k, v in p.emotions.items()}, model=model.version)
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    out.flush()
    pending.clear()


def main(argv: list[str] | None = None, stdin: IO[str] | None = None, stdout: IO[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--artifacts", type=Path, default=None)
    args = ap.parse_args(argv)
    src, out = stdin or sys.stdin, stdout or sys.stdout
    model = SentimentModel.load(args.artifacts)
    pending: list[tuple[int, dict | None, str | None]] = []
    errors = 0
    for lineno, raw in enumerate(src, start=1):  # iterating stdin streams; nothing waits for EOF
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        rec, err = _parse(line)
        if err:
            errors += 1
            print(f"score_cli: line {lineno}: {err}", file=sys.stderr)
        pending.append((lineno, rec, err))
        if len(pending) >= args.batch:
            _flush(model, pending, out)
    _flush(model, pending, out)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
