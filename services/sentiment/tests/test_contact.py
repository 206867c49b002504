"""The per-contact math on hand-built turns."""

import pytest

from cxpulse_sentiment.contact import (
    ContactState,
    Turn,
    end_weighted,
    first_and_last_quarter,
    quarter_means,
    speaker_sentiment,
)


def turns(scores, speaker="customer", anger=0.0):
    return [Turn(i + 1, speaker, s, "negative" if s < -0.3 else "positive" if s > 0.3 else "neutral", anger, 0.0)
            for i, s in enumerate(scores)]


def test_quarter_means_split_by_position():
    assert quarter_means([-1, -1, 0, 0, 0.5, 0.5, 1, 1]) == [-1, 0, 0.5, 1]
    assert quarter_means([0.2, 0.4]) == [None, 0.2, None, 0.4]
    assert quarter_means([]) == [None, None, None, None]


def test_end_weighted_counts_the_last_turn_three_times_the_first():
    assert end_weighted([-1.0, 1.0]) == pytest.approx((1 * -1 + 3 * 1) / 4)
    assert end_weighted([0.3]) == 0.3
    assert end_weighted([]) == 0.0
    # A call that ends well scores higher than the same turns in the opposite order.
    assert end_weighted([-0.8, -0.2, 0.6]) > end_weighted([0.6, -0.2, -0.8])


def test_trend_is_end_minus_start():
    start, end = first_and_last_quarter([-0.8, -0.6, -0.2, 0.0, 0.2, 0.4, 0.6, 0.8])
    assert (start, end) == pytest.approx((-0.7, 0.7))
    assert speaker_sentiment(turns([-0.8, -0.6, -0.2, 0.0, 0.2, 0.4, 0.6, 0.8]))["trend"] == pytest.approx(1.4)


def test_rolling_counts_and_peaks():
    last = Turn(5, "customer", -0.9, "negative", 0.8, 0.6)
    result = speaker_sentiment([*turns([0.5, -0.5, -0.6, -0.7], anger=0.2), last])
    assert result["rolling_score"] == pytest.approx(0.5 * -0.9 + 0.5 * (0.5 * -0.7 + 0.5 * (0.5 * -0.6 + 0.5 * (
        0.5 * -0.5 + 0.5 * 0.5))))
    assert result["negative_turns"] == 4
    assert result["consecutive_negative"] == 4
    assert result["peak_anger"] == 0.8 and result["peak_frustration"] == 0.6
    assert result["overall_score5"] == pytest.approx(5 * result["overall_score"])


def test_a_replayed_utterance_does_not_count_twice_and_state_round_trips():
    state = ContactState("c-1", {"account_id": "a", "agent_id": None}, 1000)
    assert state.admit("e-1") == 1
    state.add(Turn(1, "customer", -0.5, "negative", 0.1, 0.2))
    assert state.admit("e-2") == 2
    state.add(Turn(2, "agent", 0.4, "positive", 0.0, 0.0))
    assert state.admit("e-2") is None and state.admit("e-1") is None
    assert state.admit("e-bot") == 3  # a bot turn takes a number but adds no sentiment
    state.fill_context({"account_id": "other", "agent_id": "ag-9"})
    assert state.context == {"account_id": "a", "agent_id": "ag-9"}  # only gaps are filled
    restored = ContactState.from_json("c-1", state.to_json())
    assert restored.summary_fields() == state.summary_fields()
    assert state.summary_fields()["customer"]["turns"] == 1
    assert state.summary_fields()["agent"]["turns"] == 1
