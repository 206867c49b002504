"""Coaching figures per agent from the outcomes of their ended contacts. A contact seen again (a replayed or
duplicate summary) replaces its earlier outcome, so figures never count a contact twice.

Outcomes are kept for as long as their contacts are remembered (up to `max_contacts_remembered`, for hours), so
each is kept packed: one small bytes object per contact, and agent ids shared, instead of an object with its own
dict and floats. Allocated among the short-lived state of contacts in progress, each small object would pin a page
of the heap after those contacts expire (cxpulse_core.memory)."""

from __future__ import annotations

import operator
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from cxpulse_core.memory import Shared

# stressful, de_escalated, escalated, end_score, quality_score, review
PACKED = struct.Struct("<???dd?")
MAX_SHARED_AGENTS = 100_000


@dataclass(frozen=True)
class ContactOutcome:
    contact_id: str
    agent_id: str
    stressful: bool
    de_escalated: bool
    escalated: bool
    end_score: float
    quality_score: float
    review: bool


@dataclass(frozen=True)
class AgentFigures:
    agent_id: str
    contacts: int
    stressful_contacts: int
    de_escalated_contacts: int
    de_escalation_rate: float | None  # None without stressful contacts: no rate to speak of
    escalated_contacts: int
    mean_customer_end_score: float | None
    mean_quality_score: float | None
    flagged_for_review: int


def figures(agent_id: str, packed: Iterable[bytes]) -> AgentFigures:
    """An agent's figures from its contacts' outcomes (PACKED), column by column."""
    rows = list(PACKED.iter_unpack(b"".join(packed)))
    n = len(rows)
    if not n:
        return AgentFigures(agent_id, 0, 0, 0, None, 0, None, None, 0)
    stressful, de_escalated, escalated, end_score, quality_score, review = zip(*rows, strict=True)
    stressed, calmed = sum(stressful), sum(map(operator.and_, stressful, de_escalated))
    return AgentFigures(
        agent_id=agent_id, contacts=n, stressful_contacts=stressed, de_escalated_contacts=calmed,
        de_escalation_rate=calmed / stressed if stressed else None, escalated_contacts=sum(escalated),
        mean_customer_end_score=sum(end_score) / n, mean_quality_score=sum(quality_score) / n,
        flagged_for_review=sum(review))


class Coaching:
    def __init__(self) -> None:
        self._by_agent: dict[str, dict[str, bytes]] = {}  # agent -> contact -> its outcome, packed
        self._agent_of: dict[str, str] = {}  # contact -> agent, to move a contact whose agent changed
        self._agents = Shared(MAX_SHARED_AGENTS)

    def record(self, outcome: ContactOutcome) -> AgentFigures:
        agent, cid = self._agents(outcome.agent_id), outcome.contact_id
        previous = self._agent_of.get(cid)
        if previous is not None and previous != agent:
            self._by_agent[previous].pop(cid, None)
        self._by_agent.setdefault(agent, {})[cid] = PACKED.pack(
            outcome.stressful, outcome.de_escalated, outcome.escalated, outcome.end_score, outcome.quality_score,
            outcome.review)
        self._agent_of[cid] = agent
        return self.figures(agent)

    def forget(self, contact_id: str) -> None:
        agent = self._agent_of.pop(contact_id, None)
        if agent is not None:
            self._by_agent[agent].pop(contact_id, None)
            if not self._by_agent[agent]:
                del self._by_agent[agent]

    def figures(self, agent_id: str) -> AgentFigures:
        return figures(agent_id, self._by_agent.get(agent_id, {}).values())

    def table(self) -> list[AgentFigures]:
        """Every agent, those with the most contacts flagged for review first (who to coach first)."""
        rows = [self.figures(agent) for agent in self._by_agent]
        return sorted(rows, key=lambda f: (-f.flagged_for_review, f.mean_quality_score or 0.0, f.agent_id))
