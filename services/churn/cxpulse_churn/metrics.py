"""Metrics of the churn-scoring service (on top of the shared ones in cxpulse_core.metrics)."""

from __future__ import annotations

from prometheus_client import Gauge

from cxpulse_core.metrics import (  # noqa: F401 - re-exported: the service's full metric list in one place
    DEADLETTERS,
    MESSAGES_IN,
    MESSAGES_OUT,
    PIPELINE_LATENCY,
    READY,
    counter,
    latency_seconds,
)

SERVICE = "churn-scoring"

SCORES = counter("churn_scores", "Churn scores produced.", ("trigger", "band"))
SKIPPED = counter("churn_skipped", "Input records not scored (contact updates, no account id).", ("reason",))
SCORING_LATENCY = latency_seconds("churn_scoring_latency", "Features + model + reasons for one batch of accounts.",
                             ("trigger",))
EVENT_LATENCY = latency_seconds("churn_event_latency", "From consuming an account event to its score being produced.")
ACCOUNTS = Gauge("cxpulse_churn_accounts", "Accounts in this worker's history table.", ("service",))
DECAY_SWEEP = latency_seconds("churn_decay_sweep", "Duration of one decay sweep.")
