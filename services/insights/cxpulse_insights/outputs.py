"""The service's Avro outputs as typed records (cxpulse_core.records): QualityScore per ended contact and
AgentFigures per agent. Event ids derive from their inputs, so a replay produces the same record again (idempotent
on the compacted topics)."""

from __future__ import annotations

from typing import Any

from cxpulse_core import records
from cxpulse_core.ids import derived_id, now_ms
from cxpulse_core.records import ContactSummary, QualityCriterion, QualityScore

from .coaching import AgentFigures
from .quality import Scorecard


def quality_score(summary: ContactSummary, card: Scorecard, z: float | None, outlier: str,
                  reasons: list[str], version: object = "") -> QualityScore:
    """`version` says what the score was computed from: a rescore with more data is a new event."""
    return QualityScore(
        event_id=derived_id("insights-quality", summary.event_id, version),
        contact_id=summary.contact_id, account_id=summary.account_id, agent_id=summary.agent_id,
        queue=summary.queue, channel=summary.channel or "voice", journey_stage=summary.journey_stage,
        score=card.score,
        criteria=[QualityCriterion(name=c.name, weight=c.weight, value=None if c.value is None else round(c.value, 4),
                                   points=c.points, detail=c.detail) for c in card.criteria],
        robust_z=None if z is None else round(z, 4), outlier=outlier,
        stressful=card.stressful, de_escalated=card.de_escalated, escalated=card.escalated,
        customer_end_score=summary.end_score, review=bool(reasons), review_reasons=reasons,
        event_time=summary.ended_time, origin_time=summary.origin_time or summary.ended_time,
        produced_time=now_ms(),
    )


def agent_figures(figures: AgentFigures, summary: ContactSummary) -> records.AgentFigures:
    return records.AgentFigures(
        event_id=derived_id("insights-agent", figures.agent_id, summary.event_id),
        agent_id=figures.agent_id, contacts=figures.contacts,
        stressful_contacts=figures.stressful_contacts, de_escalated_contacts=figures.de_escalated_contacts,
        de_escalation_rate=_round(figures.de_escalation_rate), escalated_contacts=figures.escalated_contacts,
        mean_customer_end_score=_round(figures.mean_customer_end_score),
        mean_quality_score=_round(figures.mean_quality_score), flagged_for_review=figures.flagged_for_review,
        last_contact_id=summary.contact_id, event_time=summary.ended_time,
        origin_time=summary.origin_time or summary.ended_time, produced_time=now_ms(),
    )


def figures_dict(figures: AgentFigures) -> dict[str, Any]:
    """The API's row of the coaching table."""
    return {"agent_id": figures.agent_id, "contacts": figures.contacts,
            "stressful_contacts": figures.stressful_contacts, "de_escalated_contacts": figures.de_escalated_contacts,
            "de_escalation_rate": _round(figures.de_escalation_rate), "escalated_contacts": figures.escalated_contacts,
            "mean_customer_end_score": _round(figures.mean_customer_end_score),
            "mean_quality_score": _round(figures.mean_quality_score), "flagged_for_review": figures.flagged_for_review}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
