"""Journey analytics per journey stage x channel: how customers feel in each stage (distribution of contacts
by their mean customer sentiment there) and drop-off, the share of contacts whose sentiment fell during that
stage. A contact that passes through several stages (ivr -> billing -> cancellation) counts in each."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .quality import Turn

DROP = 0.2  # a fall of at least this much (on [-1, 1]) within a stage counts as a drop
LABEL_BAND = 0.2  # mean above +band: positive, below -band: negative, else neutral
UNKNOWN = "unknown"


@dataclass(frozen=True)
class StageOutcome:
    stage: str
    mean_score: float
    fell: bool


def label(score: float) -> str:
    return "positive" if score > LABEL_BAND else "negative" if score < -LABEL_BAND else "neutral"


def stage_outcomes(turns: Sequence[Turn], fallback_stage: str | None, fallback_mean: float,
                   fallback_trend: float) -> list[StageOutcome]:
    """One outcome per stage the customer spoke in. A stage's baseline is the customer's last score before
    entering it (or its own first score when the contact starts there); it fell when its last score is DROP
    or more below that. Without scored turns the summary's stage, mean and trend stand in."""
    spoken = sorted((t for t in turns if t.speaker == "customer"), key=lambda t: t.turn)
    if not spoken:
        return [StageOutcome(fallback_stage or UNKNOWN, fallback_mean, fallback_trend <= -DROP)]
    scores: dict[str, list[float]] = {}
    fell: dict[str, bool] = {}
    previous: float | None = None
    segment_start: float | None = None
    for i, turn in enumerate(spoken):
        stage = turn.journey_stage or fallback_stage or UNKNOWN
        if i == 0 or stage != (spoken[i - 1].journey_stage or fallback_stage or UNKNOWN):
            segment_start = previous if previous is not None else turn.score
        scores.setdefault(stage, []).append(turn.score)
        last_of_segment = i + 1 == len(spoken) or stage != (spoken[i + 1].journey_stage or fallback_stage or UNKNOWN)
        if last_of_segment:
            fell[stage] = fell.get(stage, False) or turn.score - (segment_start or 0.0) <= -DROP
        previous = turn.score
    return [StageOutcome(stage, sum(s) / len(s), fell[stage]) for stage, s in scores.items()]


@dataclass
class Cell:
    contacts: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    dropped: int = 0
    score_sum: float = 0.0

    def add(self, outcome: StageOutcome, sign: int) -> None:
        self.contacts += sign
        name = label(outcome.mean_score)
        setattr(self, name, getattr(self, name) + sign)
        self.dropped += sign * outcome.fell
        self.score_sum += sign * outcome.mean_score


class Journey:
    """Each contact's outcomes are kept, to take them out again when the contact is seen again or forgotten, as
    one JSON string per contact (as coaching.py packs its outcomes, and for the same reason)."""

    def __init__(self) -> None:
        self._cells: dict[tuple[str, str], Cell] = {}
        self._contacts: dict[str, str] = {}  # contact -> [channel, [[stage, mean_score, fell], ...]] as JSON

    def forget(self, contact_id: str) -> None:
        packed = self._contacts.pop(contact_id, None)
        if packed is not None:
            channel, old = json.loads(packed)
            for stage, mean_score, fell in old:
                self._cells[(stage, channel)].add(StageOutcome(stage, mean_score, fell), -1)

    def record(self, contact_id: str, channel: str, outcomes: list[StageOutcome]) -> None:
        self.forget(contact_id)
        for outcome in outcomes:
            self._cells.setdefault((outcome.stage, channel), Cell()).add(outcome, +1)
        self._contacts[contact_id] = json.dumps([channel, [[o.stage, o.mean_score, o.fell] for o in outcomes]])

    def heatmap(self) -> list[dict[str, object]]:
        rows = []
        for (stage, channel), cell in sorted(self._cells.items()):
            if cell.contacts <= 0:
                continue
            rows.append({"stage": stage, "channel": channel, "contacts": cell.contacts,
                         "distribution": {"negative": cell.negative, "neutral": cell.neutral,
                                          "positive": cell.positive},
                         "mean_score": round(cell.score_sum / cell.contacts, 4),
                         "dropped": cell.dropped, "drop_off": round(cell.dropped / cell.contacts, 4)})
        return rows
