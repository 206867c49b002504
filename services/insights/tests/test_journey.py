"""Journey drop-off and distribution per stage x channel on hand-built contacts."""

import pytest
from insights_builders import turn

from cxpulse_insights.journey import Journey, StageOutcome, stage_outcomes


def test_drop_off_is_measured_from_the_mood_on_entering_the_stage():
    turns = [turn(1, "customer", 0.3, stage="ivr"), turn(2, "customer", 0.2, stage="ivr"),
             turn(3, "agent", 0.5, stage="billing"),  # agent turns do not count
             turn(4, "customer", 0.1, stage="billing"), turn(5, "customer", -0.5, stage="billing"),
             turn(6, "customer", -0.4, stage="cancellation"), turn(7, "customer", 0.0, stage="cancellation")]
    out = {o.stage: o for o in stage_outcomes(turns, "billing", 0.0, 0.0)}
    assert not out["ivr"].fell  # 0.3 -> 0.2
    assert out["billing"].fell  # entered at 0.2, left at -0.5
    assert not out["cancellation"].fell  # entered at -0.5, left at 0.0
    assert out["billing"].mean_score == pytest.approx(-0.2)


def test_without_turns_the_summary_stands_in():
    assert stage_outcomes([], "billing", -0.3, -0.5) == [StageOutcome("billing", -0.3, True)]
    assert stage_outcomes([], None, 0.4, 0.1) == [StageOutcome("unknown", 0.4, False)]


def test_heatmap_cells_distribution_and_drop_off():
    journey = Journey()
    journey.record("c1", "voice", [StageOutcome("billing", -0.5, True), StageOutcome("ivr", 0.0, False)])
    journey.record("c2", "voice", [StageOutcome("billing", 0.5, False)])
    journey.record("c3", "chat", [StageOutcome("billing", 0.0, True)])
    journey.record("c4", "voice", [StageOutcome("billing", 0.1, True)])
    journey.record("c4", "voice", [StageOutcome("billing", 0.1, False)])  # seen again: replaces
    cells = {(c["stage"], c["channel"]): c for c in journey.heatmap()}
    billing = cells[("billing", "voice")]
    assert billing["contacts"] == 3 and billing["dropped"] == 1
    assert billing["drop_off"] == pytest.approx(1 / 3, abs=1e-4)
    assert billing["distribution"] == {"negative": 1, "neutral": 1, "positive": 1}
    assert billing["mean_score"] == pytest.approx(0.1 / 3, abs=1e-4)
    assert cells[("billing", "chat")]["drop_off"] == 1.0
    assert cells[("ivr", "voice")]["contacts"] == 1
    journey.forget("c3")
    assert ("billing", "chat") not in {(c["stage"], c["channel"]) for c in journey.heatmap()}
