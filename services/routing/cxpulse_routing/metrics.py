"""The routing service's own metrics (the shared ones are in cxpulse_core.metrics)."""

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
INPUTS = counter("routing_inputs", "Records consumed, by topic role and record type.", ("input", "schema"))
DEADLETTERS = counter("routing_deadletters", "Records sent to the dead-letter topic, by reason.", ("reason",))
RULE_RELOADS = counter("routing_rule_reloads", "Rules file reloads, by outcome (ok, invalid).", ("outcome",))
DECISION_LATENCY = latency_seconds("routing_decision_latency",
                                   "produced_time of an output - origin_time of the update that triggered it.",
                                   ("output",))
STEP_LATENCY = latency_seconds("routing_step_latency", "Time to handle one input record inside the service.",
                               ("input",))
