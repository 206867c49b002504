"""Turns (speaker, kind, mood) into varied sentences from phrases.yaml. Pure: all randomness from the rng given.

A customer turn is [filler] + one or two sentences chosen by the turn's kind and mood + [tail]; every
{slot} is filled from the contact's own values (company, device, amounts, PII) or drawn fresh (waits, days)."""

from __future__ import annotations

import random
import re
import string
from functools import cache
from importlib import resources
from typing import Any

import yaml

MIN_WORDS, MAX_WORDS = 3, 30
# Which middle-turn pools a customer in a given mood draws from (-3 furious .. 2 delighted).
MOOD_KINDS: dict[int, tuple[str, ...]] = {
    2: ("gratitude",), 1: ("gratitude", "calm"), 0: ("calm", "detail", "confusion", "anxiety"),
    -1: ("complaint", "confusion", "sarcasm", "anxiety", "detail"), -2: ("complaint", "anger", "sarcasm"),
    -3: ("fury", "complaint", "anger"),
}
_SLOT = re.compile(r"\{(\w+)\}")
_NUMBER_WORDS = ["ten", "fifteen", "twenty", "thirty", "forty", "fifty", "sixty", "eighty", "a hundred"]


@cache
def phrases() -> dict[str, Any]:
    return yaml.safe_load(resources.files("cxpulse_lab.sim").joinpath("phrases.yaml").read_text(encoding="utf-8"))


def mood_band(mood: int) -> str:
    return "positive" if mood >= 1 else "neutral" if mood == 0 else "negative" if mood >= -2 else "furious"


def word_count(text: str) -> int:
    return len(text.split())


class Wording:
    """One contact's voice: slot values fixed for the contact (`values`) plus fresh draws per sentence."""

    def __init__(self, rng: random.Random, values: dict[str, str], industry: str) -> None:
        self.rng = rng
        self.values = values
        self.industry = phrases()["industries"][industry]
        self.used: set[str] = set()  # templates already said in this contact: people rarely repeat verbatim

    # -- slots -----------------------------------------------------------------------------------------
    def fill(self, template: str) -> str:
        return _SLOT.sub(lambda m: self._slot(m.group(1)), template)

    def _slot(self, name: str) -> str:
        rng = self.rng
        if name in self.values:
            return self.values[name]
        if name in self.industry:
            return rng.choice(self.industry[name])
        if name in phrases()["slots"]:
            return rng.choice(phrases()["slots"][name])
        if name == "amount":
            return amount(rng)
        if name == "date":
            return ordinal(rng.randint(1, 28))
        if name == "code":
            return f"{rng.choice('EFR')}{rng.randint(100, 999)}"
        raise KeyError(f"unknown slot {{{name}}}")

    def pick(self, pool: list[str]) -> str:
        template = self.rng.choice(pool)
        for _ in range(4):
            if template not in self.used:
                break
            template = self.rng.choice(pool)
        self.used.add(template)
        return self.fill(template)

    # -- customer --------------------------------------------------------------------------------------
    def customer_open(self, stage: str, reason: str, mood: int, repeat: bool) -> str:
        c = phrases()["customer"]
        parts = []
        opener = self.rng.random() < 0.7
        if opener:
            parts.append(self.pick(c["opener"]["calm" if mood >= 0 else "upset"]))
        if repeat:
            parts.append(self.pick(c["repeat"]))
        parts.append(self.pick(phrases()["issues"][stage][reason]))
        if mood <= -1 and self.rng.random() < 0.5:
            parts.append(self.pick(c["complaint" if mood == -1 else "anger"]))
        elif mood == 0 and self.rng.random() < 0.25:
            parts.append(self.pick(c["anxiety"]))
        return self._finish(parts, mood, filler=not opener)

    def customer_middle(self, mood: int) -> str:
        c = phrases()["customer"]
        kinds = MOOD_KINDS[mood]
        first = self.rng.choice(kinds)
        parts = [self.pick(c[first])]
        if self.rng.random() < 0.55:
            second = self.rng.choice(kinds)
            sentence = self.pick(c[second])
            if sentence != parts[0]:
                parts.append(sentence)
        return self._finish(parts, mood)

    def customer_pii(self, kind: str) -> str:
        prefix = self.rng.choice(["", "Yes.", "Okay.", "Sure thing.", "Of course."])
        return _join([prefix, self.pick(phrases()["customer"]["pii"][kind])])

    def customer_close(self, mood: int, cancel: bool = False) -> str:
        close = phrases()["customer"]["close"]
        parts = [self.pick(close["cancel"])] if cancel else []
        if cancel and self.rng.random() < 0.6:
            parts.insert(0, self.pick(phrases()["customer"]["anger" if mood >= -2 else "fury"]))
        if not cancel:
            parts.append(self.pick(close[mood_band(mood)]))
            if self.rng.random() < 0.5:
                parts.insert(0, self.pick(phrases()["customer"][self.rng.choice(MOOD_KINDS[mood])]))
        return self._finish(parts, mood, tail=False)

    def customer_ivr(self) -> str:
        return self.pick(phrases()["customer"]["ivr"])

    def _finish(self, parts: list[str], mood: int, tail: bool = True, filler: bool = True) -> str:
        c = phrases()["customer"]
        rng = self.rng
        if filler and rng.random() < 0.3:
            filler = rng.choice(c["filler"]["calm" if mood >= 0 else "upset"])
            parts[0] = f"{filler} {_lower_first(parts[0])}"
        if tail and rng.random() < 0.3:
            parts.append(rng.choice(c["tail"][mood_band(mood)]))
        while len(parts) > 1 and word_count(_join(parts)) > MAX_WORDS:
            parts.pop()
        text = _join(parts)
        if word_count(text) < MIN_WORDS:
            text = _join([text, rng.choice(c["tail"][mood_band(mood)])])
        return text

    # -- agent and bot ---------------------------------------------------------------------------------
    def agent(self, kind: str, topic: str | None = None) -> str:
        """An agent line of `kind`; `topic` picks within pools keyed by journey stage or PII kind."""
        pool = phrases()["agent"][kind]
        text = self.pick(pool[topic] if isinstance(pool, dict) else pool)
        if kind in ("verified", "hold") and topic in phrases()["agent"]["explain"] and self.rng.random() < 0.5:
            text = f"{text} {self.agent('explain', topic)}"
        elif kind == "empathy" and self.rng.random() < 0.5:
            text = f"{text} {self.agent('hold')}"
        return text

    def bot(self, kind: str) -> str:
        return self.pick(phrases()["bot"][kind])


def _join(parts: list[str]) -> str:
    return " ".join(p for p in parts if p)


def _lower_first(text: str) -> str:
    keep = text.startswith(("I ", "I'")) or text[:2].isupper()
    return text if keep or not text else text[0].lower() + text[1:]


def amount(rng: random.Random) -> str:
    if rng.random() < 0.35:
        return f"{rng.choice(_NUMBER_WORDS)} pounds" if rng.random() < 0.2 else f"{rng.choice(_NUMBER_WORDS)} dollars"
    return f"${rng.randint(9, 480)}.{rng.randint(0, 99):02d}"


def ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def order_number(rng: random.Random) -> str:
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
    return f"{letters}{rng.randint(100000, 999999)}"
