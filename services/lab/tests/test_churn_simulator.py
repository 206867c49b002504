from cxpulse_lab.churn.simulator import HORIZON_DAYS, simulate


def test_deterministic_with_seed() -> None:
    a, b, c = simulate(400, seed=5), simulate(400, seed=5), simulate(400, seed=6)
    assert a == b
    assert a != c


def test_examples_are_sane() -> None:
    ex = simulate(3000, seed=1)
    rate = sum(e.label for e in ex) / len(ex)
    assert 0.005 < rate < 0.05  # ~2% monthly churn by design
    assert 0.8 * 3000 < len(ex) <= 3000  # only accounts that churned before as_of are dropped
    for e in ex:
        times = [c["ended_time"] for c in e.history]
        assert times == sorted(times) and all(t <= e.as_of for t in times)
        assert all(-1.0 <= c["overall_score"] <= 1.0 for c in e.history)
    assert HORIZON_DAYS == 30
