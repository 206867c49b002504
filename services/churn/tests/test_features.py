import pytest
from churn_helpers import AS_OF, contact

from cxpulse_churn.features import CAP_DAYS, FEATURE_NAMES, REASON_TEXT, feature_dict, features, reason_text


def hand_built() -> list[dict]:
    return [
        contact("e1", 100, 0.5, 0.4, 0.5),  # older than 90 days: only counts for "last positive"
        contact("e2", 60, 0.6, 0.5, 0.7, channel="chat", anger=0.1),
        contact("e3", 20, -0.5, -0.6, -0.4, escalated=True, anger=0.7),
        contact("e4", 15, -0.1, -0.5, 0.2, anger=0.3, stage="cancellation"),
        contact("e5", 3, -0.7, -0.3, -0.8, channel="chat", status="abandoned", anger=0.9),
        contact("future", -2, -0.9, -0.9, -0.9),  # after as_of: invisible
        {"contact_id": "stub", "ended_time": AS_OF - 1000, "escalated": True, "pending": True},
    ]


def test_hand_built_history_exact_values() -> None:
    f = feature_dict(hand_built(), AS_OF)
    assert f == {
        "contacts_7d": 1.0, "contacts_30d": 3.0, "contacts_90d": 4.0,
        "negative_contacts_30d": 2.0, "negative_share_90d": 0.5,
        "mean_score_90d": pytest.approx(-0.175), "min_score_90d": -0.7,
        "sentiment_drop_90d": pytest.approx(1.3), "repeat_contacts_30d": 1.0,
        "escalations_90d": 1.0, "last_end_score": -0.25, "deescalations_90d": 1.0,
        "voice_contacts_30d": 2.0, "days_since_last_contact": 3.0,
        "days_since_last_positive": 60.0, "peak_anger_30d": 0.9, "unresolved_30d": 2.0,
        "cancellation_contacts_90d": 1.0,
    }
    assert list(f) == list(FEATURE_NAMES)
    assert features(hand_built(), AS_OF) == [f[n] for n in FEATURE_NAMES]


def test_empty_history_defaults() -> None:
    f = feature_dict([], AS_OF)
    assert f["days_since_last_contact"] == CAP_DAYS
    assert f["days_since_last_positive"] == CAP_DAYS
    assert all(v == 0.0 for k, v in f.items() if not k.startswith("days_since"))


def test_windows_are_half_open_and_order_free() -> None:
    h = [contact("a", 7, 0.0), contact("b", 6.99, 0.3, end=0.3)]
    f = feature_dict(list(reversed(h)), AS_OF)
    assert f["contacts_7d"] == 1.0  # exactly 7 days ago is outside the 7-day window
    assert f["repeat_contacts_30d"] == 1.0
    assert f["last_end_score"] == pytest.approx(0.3)
    assert f["days_since_last_positive"] == pytest.approx(6.99)


def test_reason_text_is_words() -> None:
    assert set(REASON_TEXT) == set(FEATURE_NAMES)
    assert reason_text("contacts_7d", 4.0) == "4 contacts in the last 7 days"
    assert reason_text("contacts_7d", 1.0) == "1 contact in the last 7 days"
    assert reason_text("last_end_score", -0.25) == "last contact ended negative (-0.25 or worse)"
    assert reason_text("days_since_last_positive", CAP_DAYS) == "no positive contact in over a year"
    for name in FEATURE_NAMES:
        text = reason_text(name, 2.0)
        assert "_" not in text and text[0].isalnum()
