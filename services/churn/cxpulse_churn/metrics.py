"""The churn-scoring service's own metrics. Records in and out, dead letters, processing and pipeline latency,
readiness and lag are the shared ones of cxpulse_core.metrics, kept by core's AgentRuntime."""

from __future__ import annotations

from prometheus_client import Gauge

from cxpulse_core.metrics import counter, latency_seconds

SERVICE = "churn-scoring"

SCORES = counter("churn_scores", "Churn scores produced.", ("trigger", "band"))
SKIPPED = counter("churn_skipped", "Input records not scored (contact updates, no account id).", ("reason",))
SCORING_LATENCY = latency_seconds("churn_scoring_latency", "Features + model + reasons for one batch of accounts.",
                             ("trigger",))
EVENT_LATENCY = latency_seconds("churn_event_latency", "From consuming an account event to its score being produced.")
ACCOUNTS = Gauge("cxpulse_churn_accounts", "Accounts in this worker's history table.", ("service",))
DECAY_SWEEP = latency_seconds("churn_decay_sweep", "Duration of one decay sweep.")
