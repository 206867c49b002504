"""Training tables: from the simulator, or from a CSV of feature rows (validated).

CSV format (header required, comma-separated, UTF-8):
    account_id,as_of,label,<every name in FEATURE_NAMES>
account_id: non-empty string; as_of: integer epoch ms; label: 0 or 1 (churned
within 30 days after as_of); features: finite numbers computed with
cxpulse_churn.features.features(history, as_of). Extra columns are ignored.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cxpulse_churn.features import FEATURE_NAMES, features
from cxpulse_lab.churn.simulator import Example

ID_COLUMNS = ("account_id", "as_of", "label")
MIN_ROWS = 200
MIN_PER_CLASS = 20


class CsvError(ValueError):
    """A training CSV that cannot be used; the message names the problem."""


@dataclass(frozen=True, slots=True)
class Table:
    account_ids: list[str]
    as_of: np.ndarray  # int64 epoch ms
    x: np.ndarray  # float64 (rows, len(FEATURE_NAMES))
    y: np.ndarray  # int (rows,)


def from_examples(examples: list[Example]) -> Table:
    return Table(
        [e.account_id for e in examples],
        np.array([e.as_of for e in examples], dtype=np.int64),
        np.array([features(e.history, e.as_of) for e in examples], dtype=np.float64),
        np.array([e.label for e in examples], dtype=np.int64),
    )


def write_csv(path: str | Path, table: Table) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*ID_COLUMNS, *FEATURE_NAMES])
        for i, acct in enumerate(table.account_ids):
            w.writerow([acct, int(table.as_of[i]), int(table.y[i]), *(repr(float(v)) for v in table.x[i])])


def read_csv(path: str | Path) -> Table:
    """Read and validate; raises CsvError naming file, line and column of the first problem."""
    path = Path(path)
    if not path.is_file():
        raise CsvError(f"{path}: no such file")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in (*ID_COLUMNS, *FEATURE_NAMES) if c not in header]
        if missing:
            raise CsvError(f"{path}: missing column(s): {', '.join(missing)}")
        ids, as_of, labels, rows = [], [], [], []
        for rec in reader:
            line = reader.line_num
            if None in rec or any(rec[c] is None for c in header):
                raise CsvError(f"{path} line {line}: wrong number of fields")
            acct = rec["account_id"].strip()
            if not acct:
                raise CsvError(f"{path} line {line}, column account_id: empty value")
            ids.append(acct)
            as_of.append(_int(rec["as_of"], path, line, "as_of"))
            label = rec["label"].strip()
            if label not in ("0", "1"):
                raise CsvError(f"{path} line {line}, column label: expected 0 or 1, got {label!r}")
            labels.append(int(label))
            rows.append([_float(rec[c], path, line, c) for c in FEATURE_NAMES])
    if len(rows) < MIN_ROWS:
        raise CsvError(f"{path}: too few rows: {len(rows)} (need at least {MIN_ROWS})")
    y = np.array(labels, dtype=np.int64)
    if y.min() == y.max():
        raise CsvError(f"{path}: label has a single class (all {y[0]}); need both 0 and 1")
    minority = int(min(y.sum(), len(y) - y.sum()))
    if minority < MIN_PER_CLASS:
        raise CsvError(f"{path}: too few rows of the rarer class: {minority} (need {MIN_PER_CLASS})")
    return Table(ids, np.array(as_of, dtype=np.int64), np.array(rows, dtype=np.float64), y)


def _int(text: str, path: Path, line: int, col: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise CsvError(f"{path} line {line}, column {col}: expected an integer, got {text!r}") from None


def _float(text: str, path: Path, line: int, col: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise CsvError(f"{path} line {line}, column {col}: expected a number, got {text!r}") from None
    if not math.isfinite(v):
        raise CsvError(f"{path} line {line}, column {col}: expected a finite number, got {text!r}")
    return v


def split(table: Table, seed: int, fractions: tuple[float, float] = (0.7, 0.15)) -> tuple[np.ndarray, ...]:
    """Row indices (train, valid, test), split by account so no account straddles two parts."""
    accounts = sorted(set(table.account_ids))
    perm = np.random.default_rng(seed).permutation(len(accounts))
    n_train = int(fractions[0] * len(accounts))
    n_valid = int(fractions[1] * len(accounts))
    part = {accounts[a]: 0 if k < n_train else 1 if k < n_train + n_valid else 2 for k, a in enumerate(perm)}
    which = np.array([part[a] for a in table.account_ids])
    return tuple(np.flatnonzero(which == p) for p in range(3))
