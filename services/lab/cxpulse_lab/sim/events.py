"""SimEvent, the format-neutral simulated event, and the timing that turns a conversation into a contact's
ordered events (contact_started, one per turn, contact_ended), each at a second of simulation time."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .conversation import Conversation, Turn
from .wording import phrases, word_count

CXPULSE, CONTACT_LENS = "cxpulse", "contact-lens"
FORMATS = (CXPULSE, CONTACT_LENS)


@dataclass(frozen=True)
class SimEvent:
    at_s: float  # seconds of simulation time from the start of the run
    contact_id: str
    account_id: str | None
    format: str  # "cxpulse" | "contact-lens"
    payload: dict[str, Any]  # neutral: type, sequence, channel, ... (formats.py renders it)

    @property
    def type(self) -> str:
        return str(self.payload["type"])


@dataclass(frozen=True)
class ContactInfo:
    contact_id: str
    account_id: str | None
    customer_id: str | None
    agent_id: str | None
    queue: str
    channel: str  # voice | chat
    journey_stage: str
    reason: str | None
    format: str
    customer_name: str = "Customer"
    agent_name: str = "Agent"
    language: str = "en-US"


def speaking_ms(rng: random.Random, turn: Turn, chat: bool) -> int:
    """How long a turn takes to say (voice) or type (chat)."""
    words = word_count(turn.text)
    if chat:
        return words * 380 + rng.randint(1500, 6000) + (1500 if turn.speaker == "agent" else 0)
    return words * 330 + rng.randint(150, 700)


def pause_ms(rng: random.Random, previous: Turn | None, chat: bool) -> int:
    base = rng.randint(1000, 4000) if chat else rng.randint(300, 1600)
    if previous is not None and previous.kind == "hold":
        base += rng.randint(2000, 7000)  # the agent checks something
    return base


def timeline(rng: random.Random, info: ContactInfo, conversation: Conversation, start_s: float, *,
             pace: float = 1.0, status: str = "completed", disposition: str | None = None,
             cl_extras: bool = True) -> list[SimEvent]:
    """The contact's events from start_s; `pace` < 1 compresses every gap (scripted contacts fit a window)."""
    chat = info.channel == "chat"
    common = {"channel": info.channel, "language": info.language}
    started = {"type": "contact_started", "sequence": 1, **common, "account_id": info.account_id,
               "customer_id": info.customer_id, "agent_id": info.agent_id, "queue": info.queue,
               "journey_stage": info.journey_stage, "reason": info.reason}
    events = [SimEvent(round(start_s, 3), info.contact_id, info.account_id, info.format, started)]
    cursor = int(rng.randint(800, 2500) * pace)
    previous: Turn | None = None
    for turn in conversation.turns:
        cursor += int(pause_ms(rng, previous, chat) * pace) if previous else 0
        begin, end = cursor, cursor + max(1, int(speaking_ms(rng, turn, chat) * pace))
        payload = {"type": "utterance", "sequence": len(events) + 1, **common, "speaker": turn.speaker,
                   "text": turn.text, "begin_offset_ms": begin, "end_offset_ms": end, "mood": turn.mood,
                   "kind": turn.kind, "display_name": info.customer_name if turn.speaker == "customer"
                   else info.agent_name}
        if info.format == CONTACT_LENS and cl_extras:
            payload["partials"] = not chat and word_count(turn.text) >= 6 and rng.random() < 0.3
            payload["categories"] = _categories(rng, info.journey_stage, turn)
        events.append(_at(events, start_s + end / 1000, info, payload))
        cursor, previous = end, turn
    ended = {"type": "contact_ended", "sequence": len(events) + 1, **common, "status": status,
             "disposition": disposition or conversation.disposition}
    events.append(_at(events, events[-1].at_s + rng.uniform(0.3, 1.5) * pace, info, ended))
    return events


def _at(events: list[SimEvent], at_s: float, info: ContactInfo, payload: dict[str, Any]) -> SimEvent:
    at_s = max(round(at_s, 3), events[-1].at_s + 0.001)  # strictly increasing within a contact
    return SimEvent(round(at_s, 3), info.contact_id, info.account_id, info.format, payload)


def _categories(rng: random.Random, stage: str, turn: Turn) -> list[str]:
    table = phrases()["categories"]
    if turn.speaker != "customer":
        return []
    if turn.kind == "open" and stage in table and rng.random() < 0.4:
        return [rng.choice(table[stage])]
    if turn.mood <= -2 and rng.random() < 0.3:
        return [rng.choice(table["negative"])]
    return []
