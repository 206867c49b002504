"""Coaching figures per agent from the outcomes of their ended contacts. A contact seen again (a replayed or
duplicate summary) replaces its earlier outcome, so figures never count a contact twice."""

from __future__ import annotations

from dataclasses import dataclass


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


def figures(agent_id: str, outcomes: list[ContactOutcome]) -> AgentFigures:
    stressful = [o for o in outcomes if o.stressful]
    calmed = sum(o.de_escalated for o in stressful)
    n = len(outcomes)
    return AgentFigures(
        agent_id=agent_id, contacts=n, stressful_contacts=len(stressful), de_escalated_contacts=calmed,
        de_escalation_rate=calmed / len(stressful) if stressful else None,
        escalated_contacts=sum(o.escalated for o in outcomes),
        mean_customer_end_score=sum(o.end_score for o in outcomes) / n if n else None,
        mean_quality_score=sum(o.quality_score for o in outcomes) / n if n else None,
        flagged_for_review=sum(o.review for o in outcomes))


class Coaching:
    def __init__(self) -> None:
        self._by_agent: dict[str, dict[str, ContactOutcome]] = {}
        self._agent_of: dict[str, str] = {}  # contact -> agent, to move a contact whose agent changed

    def record(self, outcome: ContactOutcome) -> AgentFigures:
        previous = self._agent_of.get(outcome.contact_id)
        if previous is not None and previous != outcome.agent_id:
            self._by_agent[previous].pop(outcome.contact_id, None)
        self._by_agent.setdefault(outcome.agent_id, {})[outcome.contact_id] = outcome
        self._agent_of[outcome.contact_id] = outcome.agent_id
        return self.figures(outcome.agent_id)

    def forget(self, contact_id: str) -> None:
        agent = self._agent_of.pop(contact_id, None)
        if agent is not None:
            self._by_agent[agent].pop(contact_id, None)
            if not self._by_agent[agent]:
                del self._by_agent[agent]

    def figures(self, agent_id: str) -> AgentFigures:
        return figures(agent_id, list(self._by_agent.get(agent_id, {}).values()))

    def table(self) -> list[AgentFigures]:
        """Every agent, those with the most contacts flagged for review first (who to coach first)."""
        rows = [self.figures(agent) for agent in self._by_agent]
        return sorted(rows, key=lambda f: (-f.flagged_for_review, f.mean_quality_score or 0.0, f.agent_id))
