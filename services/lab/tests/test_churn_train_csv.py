import csv
import json
from pathlib import Path

import pytest

from cxpulse_lab.churn import train
from cxpulse_lab.churn.dataset import CsvError, from_examples, read_csv, write_csv
from cxpulse_lab.churn.simulator import simulate


@pytest.fixture(scope="module")
def good_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("csv") / "good.csv"
    write_csv(path, from_examples(simulate(3000, seed=21)))
    return path


def rewrite(src: Path, dst: Path, edit) -> Path:
    with open(src, newline="") as f:
        rows = list(csv.reader(f))
    with open(dst, "w", newline="") as f:
        csv.writer(f).writerows(edit(rows))
    return dst


def test_round_trip_and_train_from_csv(good_csv: Path, tmp_path: Path) -> None:
    assert len(read_csv(good_csv).y) > 2000
    assert train.main(["--csv", str(good_csv), "--out", str(tmp_path)]) == 0
    meta = json.loads((tmp_path / "churn_model.json").read_text())
    assert meta["training_data"]["source"] == "csv"
    assert 0.0 <= meta["metrics"]["test"]["roc_auc"] <= 1.0


@pytest.mark.parametrize("edit, message", [
    (lambda r: [[c for i, c in enumerate(row) if i != 5] for row in r], "missing column(s): contacts_90d"),
    (lambda r: [r[0], [*r[1][:3], "lots", *r[1][4:]], *r[2:]], "line 2, column contacts_7d: expected a number"),
    (lambda r: [r[0], r[1], [r[2][0], "yesterday", *r[2][2:]], *r[3:]], "line 3, column as_of: expected an integer"),
    (lambda r: [r[0], [*r[1][:2], "2", *r[1][3:]], *r[2:]], "line 2, column label: expected 0 or 1"),
    (lambda r: [r[0], [*r[1][:3], "nan", *r[1][4:]], *r[2:]], "expected a finite number"),
    (lambda r: [r[0]] + [[*row[:2], "0", *row[3:]] for row in r[1:]], "single class"),
    (lambda r: r[:100], "too few rows: 99"),
    (lambda r: [r[0], r[1][:-1], *r[2:]], "line 2: wrong number of fields"),
])
def test_bad_csv_errors(good_csv: Path, tmp_path: Path, edit, message: str, capsys) -> None:
    bad = rewrite(good_csv, tmp_path / "bad.csv", edit)
    with pytest.raises(CsvError) as err:
        read_csv(bad)
    assert message in str(err.value)
    assert train.main(["--csv", str(bad), "--out", str(tmp_path / "m")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match="no such file"):
        read_csv(tmp_path / "nope.csv")
