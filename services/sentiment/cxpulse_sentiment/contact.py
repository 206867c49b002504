"""Per-contact sentiment, pure: rolling score per speaker, per-quarter means, trend (end against start),
end-weighted overall score, negative-turn counts and peak emotions.

Conventions (after Amazon Contact Lens and Genesys, see DESIGN.md): scores are in [-1, 1] and also reported on
-5..+5; quarters split a speaker's turns so far into four equal runs by position (time offsets are not always
known, turn order always is); trend is mean(last quarter) - mean(first quarter); the overall score weighs turn i
of n by 1 + 2 * i / (n - 1), so the last turn counts three times the first."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLLING_ALPHA = 0.5  # weight of the newest turn in the exponentially weighted rolling score
NEGATIVE = "negative"


@dataclass
class Turn:
    turn: int
    speaker: str
    score: float
    label: str
    anger: float
    frustration: float

    def to_list(self) -> list[Any]:
        return [self.turn, self.speaker, round(self.score, 5), self.label, round(self.anger, 4),
                round(self.frustration, 4)]


def quarter_means(scores: list[float]) -> list[float | None]:
    n = len(scores)
    means: list[float | None] = []
    for q in range(4):
        chunk = scores[q * n // 4:(q + 1) * n // 4]
        means.append(sum(chunk) / len(chunk) if chunk else None)
    return means


def end_weighted(scores: list[float]) -> float:
    n = len(scores)
    if n == 0:
        return 0.0
    if n == 1:
        return scores[0]
    weights = [1 + 2 * i / (n - 1) for i in range(n)]
    return sum(w * s for w, s in zip(weights, scores, strict=True)) / sum(weights)


def first_and_last_quarter(scores: list[float]) -> tuple[float, float]:
    """Means of the first and last quarter; with fewer than four turns, the first and the last turn."""
    if not scores:
        return 0.0, 0.0
    size = max(1, len(scores) // 4)
    return sum(scores[:size]) / size, sum(scores[-size:]) / size


def speaker_sentiment(turns: list[Turn]) -> dict[str, Any]:
    """The SpeakerSentiment record (schemas/sentiment/SpeakerSentiment.avsc) of one speaker's turns."""
    scores = [t.score for t in turns]
    rolling = 0.0
    for i, score in enumerate(scores):
        rolling = score if i == 0 else ROLLING_ALPHA * score + (1 - ROLLING_ALPHA) * rolling
    consecutive = 0
    for t in reversed(turns):
        if t.label != NEGATIVE:
            break
        consecutive += 1
    start, end = first_and_last_quarter(scores)
    overall = end_weighted(scores)
    return {
        "turns": len(turns),
        "rolling_score": rolling,
        "mean_score": sum(scores) / len(scores) if scores else 0.0,
        "quarter_means": quarter_means(scores),
        "trend": end - start,
        "overall_score": overall,
        "overall_score5": overall * 5,
        "negative_turns": sum(t.label == NEGATIVE for t in turns),
        "consecutive_negative": consecutive,
        "peak_anger": max((t.anger for t in turns), default=0.0),
        "peak_frustration": max((t.frustration for t in turns), default=0.0),
    }


@dataclass
class ContactState:
    """What the service remembers of a live contact. Ingest's state survives its restarts (its changelog), but
    a replayed utterance (same event id) or one without the context its ContactStarted carried (e.g. ingest's
    state expired or was deleted) is still absorbed here."""

    contact_id: str
    context: dict[str, Any]  # account_id, customer_id, agent_id, queue, channel, journey_stage
    started_time: int
    turns: list[Turn] = field(default_factory=list)  # scored turns (customer and agent)
    utterance_ids: list[str] = field(default_factory=list)  # every utterance event seen, in order
    touched_ms: int = 0  # wall clock of its last event, for the idle TTL (0: unknown)

    def admit(self, event_id: str) -> int | None:
        """The turn number of a new utterance event, or None for one already counted (a replay)."""
        if event_id in self.utterance_ids:
            return None
        self.utterance_ids.append(event_id)
        return len(self.utterance_ids)

    def add(self, turn: Turn) -> None:
        self.turns.append(turn)

    def fill_context(self, value: dict[str, Any]) -> None:
        for key, known in self.context.items():
            if known is None and value.get(key) is not None:
                self.context[key] = value[key]

    def by_speaker(self, speaker: str) -> list[Turn]:
        return [t for t in self.turns if t.speaker == speaker]

    def summary_fields(self) -> dict[str, Any]:
        customer = self.by_speaker("customer")
        scores = [t.score for t in customer]
        start, end = first_and_last_quarter(scores)
        overall = end_weighted(scores)
        return {"turns": len(self.turns), "customer": speaker_sentiment(customer),
                "agent": speaker_sentiment(self.by_speaker("agent")), "overall_score": overall,
                "overall_score5": overall * 5, "trend": end - start, "start_score": start, "end_score": end}

    def to_json(self) -> dict[str, Any]:
        return {"c": self.context, "s": self.started_time, "t": [t.to_list() for t in self.turns],
                "u": self.utterance_ids, "a": self.touched_ms}

    @classmethod
    def from_json(cls, contact_id: str, data: dict[str, Any]) -> ContactState:
        return cls(contact_id, data["c"], data["s"], [Turn(*row) for row in data["t"]], list(data["u"]),
                   int(data.get("a", 0)))
