"""The insights loop's wiring: it sits off the alert path, so it trades a quarter second for far fewer
transactions and fetches (the broker's CPU)."""

from __future__ import annotations

from cxpulse_core.settings import RuntimeSettings
from cxpulse_insights.app import build
from cxpulse_insights.settings import InsightsSettings


def test_insights_waits_for_fuller_batches_and_fetches() -> None:
    config = build(InsightsSettings(), RuntimeSettings()).config
    assert config.max_wait_ms == 250
    assert config.consumer_config == {"fetch.wait.max.ms": 250, "fetch.min.bytes": 1 << 20}
    assert config.transactional


def test_a_zero_batch_wait_handles_records_as_they_arrive() -> None:
    config = build(InsightsSettings(batch_wait_ms=0), RuntimeSettings()).config
    assert config.max_wait_ms == 0
    assert not config.consumer_config
