import numpy as np
import pytest
from churn_helpers import AS_OF, contact
from hypothesis import given, settings
from hypothesis import strategies as st

from cxpulse_churn.features import FEATURE_NAMES, MONOTONE, NEG, feature_dict, features
from cxpulse_churn.model import BANDS, ChurnModel
from cxpulse_lab.churn.simulator import simulate

MODEL = ChurnModel.load()
score = st.floats(-1.0, 1.0, allow_nan=False)


@st.composite
def contacts(draw: st.DrawFn, prefix: str, negative: bool) -> dict:
    top = NEG if negative else 1.0  # a "negative contact": overall and end score <= NEG
    return contact(
        f"{prefix}{draw(st.integers(0, 10**9))}", draw(st.floats(0.0, 120.0)),
        draw(st.floats(-1.0, top)), draw(score), draw(st.floats(-1.0, top)),
        channel=draw(st.sampled_from(["voice", "chat", "email"])), escalated=draw(st.booleans()),
        status=draw(st.sampled_from(["completed", "abandoned", "failed"])),
        anger=draw(st.floats(0.0, 1.0)), stage=draw(st.sampled_from(["billing", "cancellation"])),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(contacts("a", negative=False), max_size=12),
       st.lists(contacts("n", negative=True), min_size=1, max_size=4))
def test_more_negative_contacts_never_lower_risk(base: list, extra: list) -> None:
    fa, fb = feature_dict(base, AS_OF), feature_dict(base + extra, AS_OF)
    for name, direction in MONOTONE.items():  # each feature moves only towards risk ...
        assert direction * (fb[name] - fa[name]) >= -1e-12, name
    pa, pb = MODEL.predict_proba([features(base, AS_OF), features(base + extra, AS_OF)])
    assert pb >= pa - 1e-12  # ... so the monotone-constrained model cannot lower the risk


def test_shipped_model_is_monotone_per_feature() -> None:
    rows = np.array([features(e.history, e.as_of) for e in simulate(300, seed=3)[:40]])
    for j, name in enumerate(FEATURE_NAMES):
        grid = [*np.quantile(rows[:, j], np.linspace(0, 1, 9)).tolist(), rows[:, j].max() + 5]
        for row in rows:
            x = np.repeat(row[None, :], len(grid), axis=0)
            x[:, j] = sorted(grid)
            diffs = np.diff(MODEL.predict_proba(x)) * MONOTONE[name]
            assert (diffs >= -1e-12).all(), name


def test_scores_bands_and_reasons() -> None:
    risky = [contact(f"r{i}", i * 2, -0.8, -0.7, -0.9, escalated=True, anger=0.9, status="abandoned")
             for i in range(6)]
    calm = [contact("p", 40, 0.7, 0.6, 0.8)]
    rows = [features(risky, AS_OF), features(calm, AS_OF)]
    s_risky, s_calm = MODEL.score_many(rows)
    assert s_risky.probability > s_calm.probability
    assert s_risky.band in BANDS and BANDS.index(s_risky.band) >= BANDS.index(s_calm.band)
    assert np.allclose([s_risky.probability, s_calm.probability], MODEL.predict_proba(rows))
    for s in (s_risky, s_calm):
        assert 1 <= len(s.reasons) <= 3
        c = [r.contribution for r in s.reasons]
        signs = [x > 0 for x in c]
        assert signs == sorted(signs, reverse=True)  # positive contributions first
        pos = [x for x in c if x > 0]
        assert pos == sorted(pos, reverse=True)
        for r in s.reasons:
            assert r.feature in FEATURE_NAMES and " " in r.text and "_" not in r.text
    assert all(r.contribution > 0 for r in s_risky.reasons)
    assert s_risky.to_dict()["reasons"][0]["text"] == s_risky.reasons[0].text
    assert MODEL.score_many([]) == []


def test_metadata() -> None:
    t = MODEL.meta["band_thresholds"]
    assert 0 < t["medium"] < t["high"] < t["critical"] < 1
    assert MODEL.meta["feature_names"] == list(FEATURE_NAMES)
    assert MODEL.meta["training_data"]["source"] == "simulated"
    assert MODEL.version.startswith("churn-lgbm-")


def test_feature_name_mismatch_is_refused() -> None:
    with pytest.raises(ValueError, match="feature names"):
        ChurnModel(MODEL.booster, dict(MODEL.meta, feature_names=["x"]))
