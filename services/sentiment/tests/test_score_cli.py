from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from cxpulse_sentiment import score_cli


def run_cli(lines: list[str], *args: str) -> tuple[int, list[dict]]:
    out = io.StringIO()
    rc = score_cli.main(list(args), stdin=io.StringIO("".join(line + "\n" for line in lines)), stdout=out)
    return rc, [json.loads(line) for line in out.getvalue().splitlines()]


def test_passthrough_and_plain_text() -> None:
    rc, rows = run_cli([
        json.dumps({"text": "Thank you so much, that fixed it", "call_id": "c-1", "turn": 7, "meta": {"a": [1, 2]}}),
        "I've been on hold for two hours and nobody can help me",
    ])
    assert rc == 0 and len(rows) == 2
    assert rows[0]["call_id"] == "c-1" and rows[0]["turn"] == 7 and rows[0]["meta"] == {"a": [1, 2]}
    assert rows[0]["label"] == "positive"
    assert rows[1]["text"] == "I've been on hold for two hours and nobody can help me"
    assert rows[1]["label"] == "negative"
    for r in rows:
        assert {"label", "score", "score5", "emotions", "model"} <= set(r)
        assert r["model"].startswith("minilm-l6-")
        assert r["score5"] == pytest.approx(5 * r["score"], abs=1e-3)


def test_bad_lines_reported_in_place(capsys: pytest.CaptureFixture[str]) -> None:
    rc, rows = run_cli(["hello there", json.dumps({"txt": "typo"}), "{not json", "", "okay thanks"], "--batch", "2")
    assert rc == 1
    assert len(rows) == 4  # the blank line is skipped; every other line gets exactly one output line
    assert rows[0]["text"] == "hello there" and "label" in rows[0]
    assert rows[1] == {"error": 'JSON object has no string "text" field', "line": 2}
    assert rows[2]["line"] == 3 and rows[2]["error"].startswith("invalid JSON")
    assert rows[3]["text"] == "okay thanks" and "label" in rows[3]
    assert "line 2" in capsys.readouterr().err


def test_order_preserved_across_batches() -> None:
    texts = [f"order {i} has not arrived yet" if i % 2 else f"thanks, order {i} is fine" for i in range(23)]
    rc, rows = run_cli([json.dumps({"text": t, "i": i}) for i, t in enumerate(texts)], "--batch", "5")
    assert rc == 0
    assert [r["i"] for r in rows] == list(range(23))
    assert [r["text"] for r in rows] == texts


def test_streams_before_eof() -> None:
    # Output for the first full batch must be written before stdin is exhausted.
    out = io.StringIO()

    def lines() -> Iterator[str]:
        for i in range(3):
            yield f"line {i} about my bill\n"
        assert len(out.getvalue().splitlines()) == 3, "first batch not flushed before more input was read"
        yield "last line\n"

    rc = score_cli.main(["--batch", "3"], stdin=lines(), stdout=out)  # type: ignore[arg-type]
    assert rc == 0 and len(out.getvalue().splitlines()) == 4
