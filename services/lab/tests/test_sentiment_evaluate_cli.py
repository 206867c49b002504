from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cxpulse_core.cli import main as cxpulse
from cxpulse_lab.sentiment import evaluate

GOOD = [
    {"text": "Thank you so much, that fixed it", "label": "positive", "id": 1},
    {"text": "I've been on hold for two hours and nobody can help me", "label": "negative"},
    {"text": "my bag never arrived and nobody called back", "label": "negative"},
    {"text": "My account number is 4471, I'm calling about my bill", "label": "neutral"},
]


def write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "data.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_good_file_prints_and_writes_report(tmp_path: Path) -> None:
    data = write(tmp_path, [json.dumps(r) for r in GOOD] + [""])  # a blank line is skipped
    out_json = tmp_path / "out" / "report.json"
    out = io.StringIO()
    assert evaluate.main(["--data", str(data), "--out", str(out_json)], stdout=out) == 0
    text = out.getvalue()
    for needle in ("macro-F1", "accuracy", "precision", "recall", "confusion matrix", "negative", "neutral"):
        assert needle in text
    report = json.loads(out_json.read_text())
    assert report["n"] == 4
    assert set(report["per_class"]) == {"negative", "neutral", "positive"}
    confusion = report["confusion"]
    assert [sum(row) for row in confusion] == [2, 1, 1]  # rows are gold counts, in negative/neutral/positive order
    assert report["accuracy"] == pytest.approx(sum(confusion[i][i] for i in range(3)) / 4, abs=1e-4)
    assert 0.0 <= report["macro_f1"] <= 1.0 and report["model"].startswith("minilm-l6-")


@pytest.mark.parametrize(("line", "message"), [
    ('{"label": "negative"}', 'no non-empty string "text"'),
    ('{"text": "fine thanks"}', 'no "label"'),
    ('{"text": "fine thanks", "label": "happy"}', "unknown label 'happy'"),
    ("{not json", "invalid JSON"),
    ('["text", "label"]', "expected a JSON object"),
])
def test_bad_line_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str) -> None:
    data = write(tmp_path, [json.dumps(GOOD[0]), line])
    assert evaluate.main(["--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert f"{data}:2:" in err and message in err


def test_missing_file_through_the_cxpulse_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.jsonl"
    assert cxpulse(["evaluate", "sentiment", "--data", str(missing)]) == 2
    assert f"{missing}: no such file" in capsys.readouterr().err


def test_without_data_it_reproduces_the_model_cards_held_out_numbers(tmp_path: Path) -> None:
    """The shipped model (ONNX + numpy heads, no torch in this venv) on the held-out real test split and the CS
    test set scores what `cxpulse train sentiment` recorded in metrics.json and MODEL_CARD.md reports."""
    out = io.StringIO()
    assert evaluate.main(["--out", str(tmp_path / "report.json")], stdout=out) == 0
    splits = json.loads((tmp_path / "report.json").read_text())["splits"]
    assert set(splits) == {"real-test", "vader-amazon-test", "vader-tweets-test", "uci-amazon-test", "uci-yelp-test",
                           "cs-test"}
    assert splits["real-test"]["n"] == 2281 and splits["cs-test"]["n"] == 371  # the card's test sizes
    for name, split in splits.items():
        assert split["macro_f1"] == pytest.approx(split["recorded_macro_f1"], abs=1e-3), name
    assert "real-test" in out.getvalue() and "recorded" in out.getvalue()
