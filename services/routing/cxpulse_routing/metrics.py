"""The routing service's own metrics. Records in, dead letters, processing and pipeline latency, readiness and
lag are the shared ones of cxpulse_core.metrics, kept by core's AgentRuntime."""

from __future__ import annotations

from cxpulse_core.metrics import counter, latency_seconds

SERVICE = "routing"

DECISIONS = counter("routing_decisions", "Rules that matched, by rule and outcome (escalation, alert, suppressed).",
                    ("rule", "outcome"))
ESCALATIONS = counter("routing_escalations", "Escalations produced, by target queue.", ("queue",))
ALERTS = counter("routing_alerts", "Supervisor alerts produced (rate() gives the alert rate).", ("severity", "team"))
GUIDANCE = counter("routing_guidance", "Agent guidance produced, by the emotion it answers.", ("emotion",))
GUIDANCE_SKIPPED = counter("routing_guidance_skipped",
                           "Turns that warranted guidance but got none: no_embedding (the record has none) or "
                           "encoder_mismatch (embedded by another encoder than the phrase matrix).", ("reason",))
RULE_RELOADS = counter("routing_rule_reloads", "Rules file reloads, by outcome (ok, invalid).", ("outcome",))
DECISION_LATENCY = latency_seconds("routing_decision_latency",
                                   "produced_time of an output - origin_time of the update that triggered it.",
                                   ("output",))
