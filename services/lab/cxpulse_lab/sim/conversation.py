"""One contact's conversation: an emotional arc chosen from the customer's history and the agent's skill,
then alternating agent and customer turns worded to follow that arc."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .wording import Wording

RESOLVED_DISPOSITION = {"billing": "refund_issued", "technical_support": "fixed", "cancellation": "retained",
                        "sales": "upgraded", "onboarding": "activated"}
UNRESOLVED_DISPOSITIONS = ("unresolved", "callback_scheduled", "escalated_supervisor")
PII_KINDS = ("card", "email", "phone")
START_MOODS = (1, 0, 0, -1, -2, -3)
START_WEIGHTS = (0.12, 0.30, 0.18, 0.2, 0.14, 0.06)


@dataclass(frozen=True)
class Turn:
    speaker: str  # customer | agent | bot
    text: str
    mood: int  # the speaker's mood; agents and bots 0 (neutral) or 1 (warm)
    kind: str  # open, middle, pii, close, greet, ... (also picks Contact Lens categories)


@dataclass(frozen=True)
class Conversation:
    arc: str  # calm | souring | escalating | recovered | flat | churn | ivr
    turns: list[Turn]
    resolved: bool
    disposition: str


def choose_arc(rng: random.Random, skill: float, unresolved: int, stage: str) -> tuple[str, int, int]:
    """-> (arc, first customer mood, last customer mood). Repeat callers start worse, skilled agents
    turn upset customers round more often."""
    if unresolved >= 2:
        return ("churn", -2, -3) if rng.random() < 0.7 else ("escalating", -2, -3)
    start = rng.choices(START_MOODS, START_WEIGHTS)[0]
    if stage in ("sales", "onboarding"):
        start = max(start, -1)
    start = max(-3, start - unresolved)
    if start <= -1:
        if rng.random() < 0.15 + 0.75 * skill:
            return "recovered", start, rng.choice((1, 2))
        if rng.random() < 0.5:
            return "escalating", start, -3
        return "flat", start, start
    if rng.random() < 0.03 + 0.15 * (1 - skill):
        return "souring", start, -2
    return "calm", start, min(2, start + rng.choice((0, 1, 1)))


def moods(rng: random.Random, first: int, last: int, n: int) -> list[int]:
    if n == 1:
        return [last]
    out = []
    for i in range(n):
        value = first + (last - first) * i / (n - 1)
        if 0 < i < n - 1 and rng.random() < 0.25:
            value += rng.choice((-0.6, 0.6))
        if value > 0 and i < n - 2:  # relief comes once the problem is being solved, not before
            value = min(value, 0.0 if first <= 0 else 1.0)
        out.append(max(-3, min(2, round(value))))
    return out


def converse(rng: random.Random, words: Wording, *, stage: str, reason: str, skill: float, unresolved: int,
             customer_turns: int, chat: bool, want_pii: bool) -> Conversation:
    arc, first, last = choose_arc(rng, skill, unresolved, stage)
    mood = moods(rng, first, last, customer_turns)
    good = {"recovered": True, "escalating": False, "souring": False}.get(arc, rng.random() < skill)
    resolved = arc in ("recovered", "calm") or (arc == "flat" and rng.random() < 0.3)
    turns = [Turn("agent", words.agent("greet_chat" if chat else "greet"), 1 if good else 0, "greet")]
    pii_at = 1 if want_pii and customer_turns >= 3 else -1
    pii_kind = rng.choice(PII_KINDS)
    for i in range(customer_turns):
        if i == 0:
            turn = Turn("customer", words.customer_open(stage, reason, mood[0], unresolved > 0), mood[0], "open")
        elif i == pii_at:
            turn = Turn("customer", words.customer_pii(pii_kind), mood[i], "pii")
        elif i == customer_turns - 1:
            turn = Turn("customer", words.customer_close(mood[i], cancel=arc == "churn"), mood[i], "close")
        else:
            turn = Turn("customer", words.customer_middle(mood[i]), mood[i], "middle")
        turns.append(turn)
        reply = _agent_reply(rng, i, customer_turns, pii_at, mood[i], good, resolved)
        turns.append(Turn("agent", words.agent(reply, pii_kind if reply == "verify" else stage), 1 if good else 0,
                          reply))
    if arc == "churn":
        disposition = "cancellation_requested"
    elif resolved:
        disposition = RESOLVED_DISPOSITION[stage]
    else:
        disposition = rng.choice(UNRESOLVED_DISPOSITIONS)
    return Conversation(arc, turns, resolved, disposition)


def _agent_reply(rng: random.Random, i: int, n: int, pii_at: int, mood: int, good: bool,
                 resolved: bool) -> str:
    """The kind of the agent's answer to customer turn i (wording.Wording.agent words it)."""
    if i == n - 1:
        return "close_good" if good else "close_poor"
    if i + 1 == pii_at:
        return "verify"
    if i == pii_at:
        return "verified"
    if i == n - 2:
        return "resolve" if resolved else ("explain" if good else "poor")
    if not good:
        return rng.choice(("poor", "poor", "hold", "ask_detail"))
    if mood <= -1 and rng.random() < 0.7:
        return "empathy"
    return rng.choice(("ask_detail", "explain", "hold", "explain"))


def ivr(rng: random.Random, words: Wording) -> Conversation:
    turns = [Turn("bot", words.bot("greet"), 0, "greet"), Turn("customer", words.customer_ivr(), 0, "ivr")]
    if rng.random() < 0.3:
        turns += [Turn("bot", words.bot("retry"), 0, "retry"), Turn("customer", words.customer_ivr(), -1, "ivr")]
    turns.append(Turn("bot", words.bot("route"), 0, "route"))
    return Conversation("ivr", turns, True, rng.choice(("transferred", "transferred", "self_service")))
