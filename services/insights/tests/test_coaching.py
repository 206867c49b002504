"""Coaching figures per agent on hand-built outcomes."""

import pytest

from cxpulse_insights.coaching import Coaching, ContactOutcome


def outcome(contact, agent="a-1", stressful=False, calmed=False, escalated=False, end=0.0, score=80.0, review=False):
    return ContactOutcome(contact, agent, stressful, calmed, escalated, end, score, review)


def test_figures_per_agent():
    coaching = Coaching()
    coaching.record(outcome("c1", stressful=True, calmed=True, end=0.2, score=90))
    coaching.record(outcome("c2", stressful=True, calmed=False, escalated=True, end=-0.6, score=30, review=True))
    coaching.record(outcome("c3", end=0.4, score=75))
    coaching.record(outcome("c4", agent="a-2", end=0.1, score=60))
    f = coaching.figures("a-1")
    assert (f.contacts, f.stressful_contacts, f.de_escalated_contacts, f.escalated_contacts,
            f.flagged_for_review) == (3, 2, 1, 1, 1)
    assert f.de_escalation_rate == pytest.approx(0.5)
    assert f.mean_customer_end_score == pytest.approx(0.0)
    assert f.mean_quality_score == pytest.approx(65.0)
    other = coaching.figures("a-2")
    assert other.de_escalation_rate is None and other.stressful_contacts == 0
    assert [row.agent_id for row in coaching.table()] == ["a-1", "a-2"]  # most flagged first


def test_a_contact_seen_again_replaces_itself():
    coaching = Coaching()
    coaching.record(outcome("c1", score=40, review=True))
    coaching.record(outcome("c1", score=90))
    f = coaching.figures("a-1")
    assert (f.contacts, f.flagged_for_review, f.mean_quality_score) == (1, 0, 90.0)
    coaching.record(outcome("c1", agent="a-2"))  # the contact's agent was corrected
    assert coaching.figures("a-1").contacts == 0 and coaching.figures("a-2").contacts == 1
    coaching.forget("c1")
    assert [row.agent_id for row in coaching.table()] == ["a-1"] and coaching.figures("a-1").contacts == 0
