"""The definition of a sustained rate in `make bench` (e2e.max_sustained_utterances_per_s)."""

from cxpulse_lab.sim.bench_e2e import _kept_up


def phase(scored: int = 100, escalation_p99: float | None = 900.0, sentiment_p99: float = 80.0) -> dict:
    escalation = {"n": 3, "p99": escalation_p99} if escalation_p99 is not None else {"n": 0}
    return {"utterances": 100, "scored": scored,
            "latency": {"sentiment": {"n": scored, "p99": sentiment_p99}, "escalation": escalation}}


def test_every_utterance_scored_and_escalations_within_a_second() -> None:
    assert _kept_up(phase())
    assert _kept_up(phase(escalation_p99=1000.0))


def test_one_unscored_utterance_or_a_slow_escalation_is_not_sustained() -> None:
    assert not _kept_up(phase(scored=99))
    assert not _kept_up(phase(escalation_p99=1001.0))


def test_a_phase_without_escalations_is_judged_on_the_sentiment_hop() -> None:
    assert _kept_up(phase(escalation_p99=None, sentiment_p99=400.0))
    assert not _kept_up(phase(escalation_p99=None, sentiment_p99=1500.0))
