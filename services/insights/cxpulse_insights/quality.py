"""The quality scorecard of an ended contact: six criteria, each 0..1, weighted to a 0-100 score, plus a
per-queue robust z-score (median/MAD) that flags outliers. Pure functions on plain data; the weights and the
thresholds are documented in services/insights/README.md."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

WEIGHTS: dict[str, float] = {
    "trajectory": 25.0,  # where the customer ended and which way they went
    "de_escalation": 20.0,  # how far an upset customer was brought back towards neutral
    "politeness_empathy": 20.0,  # agent's gratitude/apology/empathy phrases and the agent's own tone
    "escalation_handling": 15.0,  # after an escalation, did the customer's mood improve
    "negative_stretches": 10.0,  # long runs of negative customer turns
    "talk_share": 10.0,  # agent share of the floor; applies only where turn timing is known
}
PHRASES: dict[str, re.Pattern[str]] = {
    "gratitude": re.compile(r"\b(thank(s| you)?|appreciate|grateful)\b", re.I),
    "apology": re.compile(r"\b(sorry|apologi[sz]e|apologies|my apologies)\b", re.I),
    "empathy": re.compile(r"\b(i understand|i can imagine|i see (why|how)|that must be|frustrating|"
                          r"i hear you|let me help|happy to help|i('ll| will) (fix|sort|take care))\b", re.I),
}
NEGATIVE_LABEL = "negative"
CALM_FLOOR = -0.2  # a stressful contact counts as de-escalated when the customer ends above this ...
STRESS_EMOTION = 0.6  # ... and a contact is stressful when anger or frustration peaks at this or more ...
STRESS_NEGATIVE_TURNS = 2  # ... or the customer had this many negative turns
STRETCH_LIMIT = 4  # a run of this many negative customer turns in a row scores 0 on negative_stretches
TALK_BAND = (0.3, 0.6)  # agent talk share inside this band scores 1; it falls to 0 at 0.3 outside it


@dataclass(frozen=True)
class Turn:
    turn: int
    speaker: str  # customer, agent, bot, system, unknown
    text: str
    label: str
    score: float
    event_time: int  # epoch ms
    journey_stage: str | None = None


@dataclass(frozen=True)
class ContactFacts:
    """What the scorecard reads: the contact summary, the contact's scored turns (possibly none) and, where
    routing escalated it, the customer's score at the escalation."""

    contact_id: str
    start_score: float
    end_score: float
    trend: float
    customer_negative_turns: int
    customer_peak_anger: float
    customer_peak_frustration: float
    customer_consecutive_negative: int
    customer_quarter_means: tuple[float | None, ...]
    agent_mean_score: float
    ended_time: int
    turns: tuple[Turn, ...] = ()
    escalation_score: float | None = None  # None: not escalated


@dataclass(frozen=True)
class Criterion:
    name: str
    weight: float
    value: float | None  # None: does not apply to this contact
    detail: str
    points: float = 0.0


@dataclass(frozen=True)
class Scorecard:
    score: float
    criteria: tuple[Criterion, ...]
    stressful: bool
    de_escalated: bool
    escalated: bool
    longest_negative_run: int

    def value(self, name: str) -> float | None:
        return next(c.value for c in self.criteria if c.name == name)


def clamp(x: float, low: float = 0.0, high: float = 1.0) -> float:
    return max(low, min(high, x))


def customer_turns(facts: ContactFacts) -> list[Turn]:
    return [t for t in sorted(facts.turns, key=lambda t: t.turn) if t.speaker == "customer"]


def customer_low(facts: ContactFacts) -> float:
    """The customer's worst moment: the lowest turn score, else the lowest quarter mean of the summary."""
    scores = [t.score for t in customer_turns(facts)]
    scores += [q for q in facts.customer_quarter_means if q is not None]
    return min(scores, default=min(facts.start_score, facts.end_score))


def longest_negative_run(facts: ContactFacts) -> int:
    turns = customer_turns(facts)
    if not turns:  # the summary only knows the run at the end of the contact
        return facts.customer_consecutive_negative
    best = run = 0
    for turn in turns:
        run = run + 1 if turn.label == NEGATIVE_LABEL else 0
        best = max(best, run)
    return best


def is_stressful(facts: ContactFacts) -> bool:
    return (facts.customer_negative_turns >= STRESS_NEGATIVE_TURNS
            or max(facts.customer_peak_anger, facts.customer_peak_frustration) >= STRESS_EMOTION)


def is_de_escalated(facts: ContactFacts) -> bool:
    return is_stressful(facts) and facts.end_score > CALM_FLOOR and facts.end_score > customer_low(facts)


def trajectory(facts: ContactFacts) -> Criterion:
    end_part = (facts.end_score + 1) / 2
    trend_part = clamp(0.5 + facts.trend / 2)
    return Criterion("trajectory", WEIGHTS["trajectory"], 0.5 * end_part + 0.5 * trend_part,
                     f"end {facts.end_score:+.2f}, trend {facts.trend:+.2f}")


def de_escalation(facts: ContactFacts) -> Criterion:
    if not is_stressful(facts):
        return Criterion("de_escalation", WEIGHTS["de_escalation"], 1.0, "customer never upset")
    low = customer_low(facts)
    # Share of the way from the worst moment back to neutral (0) that the customer was brought.
    value = 1.0 if low >= 0 else clamp((facts.end_score - low) / -low)
    return Criterion("de_escalation", WEIGHTS["de_escalation"], value,
                     f"worst {low:+.2f}, end {facts.end_score:+.2f}")


def politeness_empathy(facts: ContactFacts) -> Criterion:
    agent_texts = [t.text for t in facts.turns if t.speaker == "agent"]
    tone = (facts.agent_mean_score + 1) / 2
    if not agent_texts:
        return Criterion("politeness_empathy", WEIGHTS["politeness_empathy"], tone,
                         f"no agent text; agent score {facts.agent_mean_score:+.2f}")
    found = sorted(kind for kind, pattern in PHRASES.items() if any(pattern.search(t) for t in agent_texts))
    # Two of the three kinds earn full phrase credit: an apology is not needed on every contact.
    phrases = min(1.0, len(found) / 2)
    return Criterion("politeness_empathy", WEIGHTS["politeness_empathy"], 0.6 * phrases + 0.4 * tone,
                     f"phrases: {', '.join(found) or 'none'}; agent score {facts.agent_mean_score:+.2f}")


def escalation_handling(facts: ContactFacts) -> Criterion:
    if facts.escalation_score is None:
        return Criterion("escalation_handling", WEIGHTS["escalation_handling"], 1.0, "not escalated")
    change = facts.end_score - facts.escalation_score
    value = 1.0 if facts.end_score >= 0 else clamp(0.5 + change)
    return Criterion("escalation_handling", WEIGHTS["escalation_handling"], value,
                     f"customer {facts.escalation_score:+.2f} at escalation, {facts.end_score:+.2f} at end")


def negative_stretches(facts: ContactFacts) -> Criterion:
    run = longest_negative_run(facts)
    value = clamp(1 - max(0, run - 1) / (STRETCH_LIMIT - 1))
    return Criterion("negative_stretches", WEIGHTS["negative_stretches"], value,
                     f"longest run of negative customer turns: {run}")


def agent_talk_share(facts: ContactFacts) -> float | None:
    """Agent's share of the floor: a turn holds it from its own time until the next turn (the last one until
    the contact ended). None when the turns carry no usable timing."""
    turns = sorted((t for t in facts.turns if t.speaker in ("agent", "customer")), key=lambda t: t.turn)
    if len(turns) < 2:
        return None
    ends = [t.event_time for t in turns[1:]] + [max(facts.ended_time, turns[-1].event_time)]
    spans = [(t.speaker, end - t.event_time) for t, end in zip(turns, ends, strict=True)]
    if any(span < 0 for _, span in spans):  # out-of-order clocks: no trustworthy timing
        return None
    total = sum(span for _, span in spans)
    return sum(span for speaker, span in spans if speaker == "agent") / total if total > 0 else None


def talk_share(facts: ContactFacts) -> Criterion:
    share = agent_talk_share(facts)
    if share is None:
        return Criterion("talk_share", WEIGHTS["talk_share"], None, "no turn timing")
    low, high = TALK_BAND
    outside = max(low - share, share - high, 0.0)
    return Criterion("talk_share", WEIGHTS["talk_share"], clamp(1 - outside / 0.3), f"agent talk share {share:.0%}")


def scorecard(facts: ContactFacts) -> Scorecard:
    criteria = [trajectory(facts), de_escalation(facts), politeness_empathy(facts), escalation_handling(facts),
                negative_stretches(facts), talk_share(facts)]
    applicable = sum(c.weight for c in criteria if c.value is not None)
    # Criteria that do not apply give their weight to the others, so every contact is scored out of 100.
    scored = tuple(Criterion(c.name, c.weight, c.value, c.detail,
                             round(100 * c.weight * c.value / applicable, 2) if c.value is not None else 0.0)
                   for c in criteria)
    total = round(sum(c.points for c in scored), 2)
    return Scorecard(total, scored, is_stressful(facts), is_de_escalated(facts),
                     facts.escalation_score is not None, longest_negative_run(facts))


def robust_z(value: float, sample: Sequence[float], min_sample: int = 5) -> float | None:
    """0.6745 * (value - median) / MAD (Iglewicz and Hoaglin); None for small samples or a zero MAD."""
    if len(sample) < min_sample:
        return None
    median = statistics.median(sample)
    mad = statistics.median(abs(x - median) for x in sample)
    return None if mad == 0 else 0.6745 * (value - median) / mad


def outlier(z: float | None, threshold: float = 3.5) -> str:
    if z is None or abs(z) <= threshold:
        return "none"
    return "low" if z < 0 else "high"
