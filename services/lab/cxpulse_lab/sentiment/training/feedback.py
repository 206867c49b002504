"""Supervisors' label corrections (io.cxpulse.feedback.LabelCorrection, made in the insights dashboard and produced
to cx.feedback.labels) as extra training rows for the polarity head: `cxpulse train sentiment --feedback SOURCE`.

SOURCE is a JSONL file (one correction per line: the record itself, or {"schema": ..., "value": record} as in
schemas/examples) or a topic name (read from the beginning to its end on the broker of CXPULSE_KAFKA_*; the
topic prefix CXPULSE_TOPIC_PREFIX applies). How they are used (MODEL_CARD.md, "Supervisor corrections"):
- one row per corrected turn: when a turn was corrected more than once, the latest correction wins;
- the row is (redacted text, corrected label), polarity only (a correction says nothing about emotions);
- training only: never in a dev or test split, so reported scores stay comparable across runs;
- weighted as a source of its own (classes balanced within it) at FEEDBACK_WEIGHT.
Rows that are not valid corrections are counted and reported with their line or offset, never used silently.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cxpulse_sentiment.heads import POLARITY

from .data import Split

FEEDBACK_WEIGHT = 2.0  # per-source weight next to the other training sources (see train.py)
SCHEMA = "io.cxpulse.feedback.LabelCorrection"
REQUIRED = ("contact_id", "turn", "text", "corrected_label", "event_time")


@dataclass
class Feedback:
    source: str
    read: int = 0
    rejected: list[str] = field(default_factory=list)  # "where: why"
    latest: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)  # (contact, turn) -> correction

    def add(self, where: str, record: Any) -> None:
        self.read += 1
        if isinstance(record, dict) and record.get("schema") == SCHEMA and isinstance(record.get("value"), dict):
            record = record["value"]
        if not isinstance(record, dict):
            self.rejected.append(f"{where}: not an object")
            return
        missing = [k for k in REQUIRED if record.get(k) is None]
        if missing:
            self.rejected.append(f"{where}: missing {', '.join(missing)}")
            return
        if record["corrected_label"] not in POLARITY:
            self.rejected.append(f"{where}: label {record['corrected_label']!r} is not one of {', '.join(POLARITY)}")
            return
        if not str(record["text"]).strip():
            self.rejected.append(f"{where}: empty text")
            return
        key = (str(record["contact_id"]), int(record["turn"]))
        known = self.latest.get(key)
        if known is None or record["event_time"] >= known["event_time"]:
            self.latest[key] = record

    def split(self) -> Split:
        split = Split("feedback-train")
        for record in sorted(self.latest.values(), key=lambda r: (r["contact_id"], r["turn"])):
            split.add(str(record["text"]), record["corrected_label"], set())
        return split

    def report(self) -> dict[str, Any]:
        rows = list(self.latest.values())
        return {"source": self.source, "records_read": self.read, "rows_used": len(rows),
                "superseded": self.read - len(rows) - len(self.rejected), "rejected": len(self.rejected),
                "rejections": self.rejected[:20], "weight": FEEDBACK_WEIGHT,
                "by_label": dict(Counter(r["corrected_label"] for r in rows)),
                "changed_from": dict(Counter(f"{r.get('model_label')}->{r['corrected_label']}" for r in rows)),
                "model_versions": sorted({str(r.get("model_version")) for r in rows}),
                "correctors": len({r.get("corrected_by") for r in rows})}


def read_jsonl(path: Path) -> Feedback:
    feedback = Feedback(str(path))
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            feedback.read += 1
            feedback.rejected.append(f"line {number}: not JSON ({exc.msg})")
            continue
        feedback.add(f"line {number}", record)
    return feedback


def read_topic(topic: str) -> Feedback:
    """Every correction on `topic` (with CXPULSE_TOPIC_PREFIX) up to its end, decoded with core's serde."""
    from cxpulse_core.changelog import read_to_end, topic_partitions
    from cxpulse_core.serde import SerdeError, make_serde
    from cxpulse_core.settings import KafkaSettings, RuntimeSettings

    kafka, name = KafkaSettings(), RuntimeSettings().topic(topic)
    partitions = topic_partitions(kafka, name)
    feedback, serde = Feedback(f"topic {name}"), make_serde()
    for message in read_to_end(kafka, name, partitions):
        where = f"{name}[{message.partition()}]@{message.offset()}"
        try:
            decoded = serde.decode(message.value() or b"", name)
        except SerdeError as exc:
            feedback.read += 1
            feedback.rejected.append(f"{where}: {exc}")
            continue
        if decoded.schema != SCHEMA:
            feedback.read += 1
            feedback.rejected.append(f"{where}: {decoded.schema} is not a label correction")
            continue
        feedback.add(where, decoded.value)
    return feedback


def load(source: str) -> Feedback:
    """A JSONL file when `source` is an existing path, else a topic name."""
    path = Path(source)
    if path.exists():
        return read_jsonl(path)
    if "/" in source or source.endswith((".jsonl", ".json")):
        raise ValueError(f"no feedback file {source}")
    return read_topic(source)


def polarity_rows(source: str | None, embed: Callable[[Split], np.ndarray], dim: int,
                  balanced: Callable[[np.ndarray, float], np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                               dict[str, Any] | None]:
    """(embeddings, labels, sample weights, report) of the corrections at `source` for the polarity head; empty
    arrays (and no report) without a source. `balanced(y, weight)` is train.py's per-source class balancing."""
    if not source:
        return np.zeros((0, dim), dtype=np.float32), np.zeros(0, dtype=np.int64), np.zeros(0), None
    feedback = load(source)
    report = feedback.report()
    print(f"feedback: {report['rows_used']} corrections from {source} ({report['rejected']} rejected)", flush=True)
    split = feedback.split()
    if not split.texts:
        return np.zeros((0, dim), dtype=np.float32), np.zeros(0, dtype=np.int64), np.zeros(0), report
    y = split.arrays()[0]
    return embed(split), y, balanced(y, FEEDBACK_WEIGHT), report
