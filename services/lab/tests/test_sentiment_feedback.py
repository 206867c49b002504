"""Supervisor corrections as training rows: JSONL parsing, latest correction per turn wins, clear rejections."""

import json

import numpy as np
import pytest

from cxpulse_core.schemas import schema_dir
from cxpulse_lab.sentiment.train import balanced_weights
from cxpulse_lab.sentiment.training.feedback import FEEDBACK_WEIGHT, load, polarity_rows


def correction(turn: int, label: str, at: int, text: str = "Oh great, charged twice again.", **extra) -> dict:
    return {"event_id": f"fb-{turn}-{at}", "contact_id": "c-1", "turn": turn, "text": text, "model_label": "positive",
            "model_version": "heads-x", "corrected_label": label, "corrected_by": "ana", "event_time": at} | extra


def test_jsonl_latest_correction_per_turn_wins_and_bad_rows_are_reported(tmp_path):
    example = json.loads((schema_dir() / "examples" / "cx.feedback.labels.jsonl").read_text().splitlines()[0])
    lines = [json.dumps(correction(1, "neutral", 10)), json.dumps(correction(1, "negative", 20)),
             json.dumps(correction(2, "positive", 5, text="Thanks, that was quick.")), json.dumps(example),
             "not json", json.dumps(correction(3, "angry", 5)), json.dumps(correction(4, "negative", 5, text=" ")),
             json.dumps({"turn": 5}), ""]
    path = tmp_path / "corrections.jsonl"
    path.write_text("\n".join(lines))
    feedback = load(str(path))
    split = feedback.split()
    assert split.texts == ["Oh great, charged twice again.", "Thanks, that was quick.",
                           example["value"]["text"]]
    assert [split.y[0], split.y[1]] == [0, 2]  # negative (the later correction), positive
    report = feedback.report()
    assert report["rows_used"] == 3 and report["superseded"] == 1 and report["rejected"] == 4
    assert report["records_read"] == 8 and report["weight"] == FEEDBACK_WEIGHT
    assert [r.split(":")[0] for r in report["rejections"]] == ["line 5", "line 6", "line 7", "line 8"]
    assert "'angry' is not one of" in report["rejections"][1] and "missing" in report["rejections"][3]
    assert report["by_label"] == {"negative": 2, "positive": 1}


def test_a_missing_file_is_a_clear_error():
    with pytest.raises(ValueError, match="no feedback file"):
        load("nowhere/corrections.jsonl")


def test_polarity_rows_for_the_train_command(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(correction(n, label, 1)) for n, label in
                              enumerate(["negative", "negative", "neutral"], 1)))
    embed = lambda split: np.ones((len(split.texts), 4), dtype=np.float32)  # noqa: E731 (the encoder's shape)
    x, y, w, report = polarity_rows(str(path), embed, 4, balanced_weights)
    assert x.shape == (3, 4) and list(y) == [0, 0, 1] and report["rows_used"] == 3
    # Classes balanced over the classes present (each present class weighs the same in total, mean row weight 1),
    # scaled by the source's weight.
    assert np.allclose(w, FEEDBACK_WEIGHT * np.array([0.75, 0.75, 1.5]))
    x, y, w, report = polarity_rows(None, embed, 4, balanced_weights)
    assert x.shape == (0, 4) and len(y) == len(w) == 0 and report is None
