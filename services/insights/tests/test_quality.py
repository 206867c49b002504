"""Each scorecard criterion, the weighting and the per-queue outlier flags, on hand-built contacts."""

import pytest
from insights_builders import facts, turn

from cxpulse_insights import quality as q


def test_weights_sum_to_100():
    assert sum(q.WEIGHTS.values()) == 100


def test_trajectory_rewards_ending_well_and_improving():
    assert q.trajectory(facts(end_score=1.0, trend=2.0)).value == 1.0
    assert q.trajectory(facts(end_score=-1.0, trend=-2.0)).value == 0.0
    # end 0 -> 0.5; trend +0.5 -> 0.75; mean of both
    assert q.trajectory(facts(end_score=0.0, trend=0.5)).value == pytest.approx(0.625)


def test_de_escalation_is_the_share_of_the_way_back_to_neutral():
    assert q.de_escalation(facts()).value == 1.0  # never upset
    upset = dict(customer_negative_turns=3, customer_quarter_means=(-0.8, -0.4, -0.2, -0.2))
    assert q.de_escalation(facts(**upset, end_score=-0.2)).value == pytest.approx(0.75)  # -0.8 -> -0.2
    assert q.de_escalation(facts(**upset, end_score=-0.8)).value == 0.0
    assert q.de_escalation(facts(**upset, end_score=0.3)).value == 1.0
    assert q.is_de_escalated(facts(**upset, end_score=-0.1))
    assert not q.is_de_escalated(facts(**upset, end_score=-0.5))  # below the calm floor
    assert q.is_stressful(facts(customer_peak_anger=0.7)) and not q.is_stressful(facts())


def test_politeness_counts_phrase_kinds_and_agent_tone():
    polite = (turn(1, "agent", 0.5, "Thank you for calling."), turn(2, "customer", -0.6, "This is awful"),
              turn(3, "agent", 0.2, "I'm so sorry, I understand how frustrating that is."))
    criterion = q.politeness_empathy(facts(turns=polite, agent_mean_score=0.5))
    assert criterion.value == pytest.approx(0.6 * 1.0 + 0.4 * 0.75)
    assert "apology" in criterion.detail and "empathy" in criterion.detail and "gratitude" in criterion.detail
    curt = (turn(1, "agent", -0.2, "Account number."), turn(2, "agent", -0.2, "Done."))
    assert q.politeness_empathy(facts(turns=curt, agent_mean_score=-0.2)).value == pytest.approx(0.4 * 0.4)
    one_kind = (turn(1, "agent", 0.0, "Thanks!"),)
    assert q.politeness_empathy(facts(turns=one_kind, agent_mean_score=0.0)).value == pytest.approx(0.3 + 0.2)
    # Without agent text only the agent's tone counts.
    assert q.politeness_empathy(facts(agent_mean_score=0.0)).value == 0.5


def test_escalation_handling():
    assert q.escalation_handling(facts()).value == 1.0  # not escalated
    assert q.escalation_handling(facts(escalation_score=-0.8, end_score=0.1)).value == 1.0  # ended calm
    assert q.escalation_handling(facts(escalation_score=-0.8, end_score=-0.5)).value == pytest.approx(0.8)
    assert q.escalation_handling(facts(escalation_score=-0.4, end_score=-0.9)).value == 0.0  # got worse


def test_negative_stretches_from_turns_or_the_summary():
    turns = tuple(turn(i, "customer", -0.8 if 2 <= i <= 4 else 0.1) for i in range(1, 7))
    assert q.longest_negative_run(facts(turns=turns)) == 3
    assert q.negative_stretches(facts(turns=turns)).value == pytest.approx(1 / 3)
    assert q.negative_stretches(facts(customer_consecutive_negative=5)).value == 0.0
    assert q.negative_stretches(facts()).value == 1.0


def test_talk_share_needs_timing_and_prefers_a_balanced_floor():
    # agent 0-10 s, customer 10-40 s, agent 40-50 s, contact ends at 60 s: agent 20 of 60 s
    turns = (turn(1, "agent", 0.1, at_s=0), turn(2, "customer", 0.0, at_s=10), turn(3, "agent", 0.1, at_s=40))
    f = facts(turns=turns, ended_time=turn(0, "x", 0, at_s=50).event_time)
    assert q.agent_talk_share(f) == pytest.approx(20 / 50)
    assert q.talk_share(f).value == 1.0
    hog = (turn(1, "agent", 0.1, at_s=0), turn(2, "customer", 0.0, at_s=45))
    f = facts(turns=hog, ended_time=turn(0, "x", 0, at_s=50).event_time)
    assert q.agent_talk_share(f) == pytest.approx(0.9)
    assert q.talk_share(f).value == pytest.approx(0.0)
    assert q.talk_share(facts()).value is None  # no turns, no timing


def test_scorecard_shares_out_weights_of_criteria_that_do_not_apply():
    card = q.scorecard(facts(end_score=1.0, trend=2.0, agent_mean_score=1.0))
    assert card.score == pytest.approx(100.0)
    assert card.value("talk_share") is None
    assert sum(c.points for c in card.criteria) == pytest.approx(card.score)
    trajectory = next(c for c in card.criteria if c.name == "trajectory")
    assert trajectory.points == pytest.approx(100 * 25 / 90, abs=0.01)  # points are rounded to 0.01
    bad = q.scorecard(facts(end_score=-0.9, trend=-0.8, customer_negative_turns=4, customer_consecutive_negative=4,
                            customer_quarter_means=(0.0, -0.5, -0.9, -0.9), agent_mean_score=-0.5,
                            escalation_score=-0.6))
    assert bad.score < 25 and bad.stressful and not bad.de_escalated and bad.escalated


def test_robust_z_and_outlier_flags():
    sample = [70, 72, 74, 75, 76, 78, 80]
    assert q.robust_z(75, sample) == pytest.approx(0.0)
    # with 20 in the queue: median 74.5, absolute deviations' median 3.0
    assert q.robust_z(20, [*sample, 20]) == pytest.approx(0.6745 * (20 - 74.5) / 3.0)
    assert q.outlier(q.robust_z(20, [*sample, 20])) == "low"
    assert q.outlier(q.robust_z(99, sample)) == "high"
    assert q.outlier(q.robust_z(77, sample)) == "none"
    assert q.robust_z(10, [70, 70, 70]) is None  # too few scores
    assert q.robust_z(10, [70] * 10) is None  # MAD 0
