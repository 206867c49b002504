"""Metrics of the insights service (besides the stream loop's cxpulse_messages_* and cxpulse_deadletters_*)."""

from __future__ import annotations

from prometheus_client import Gauge, Histogram

from cxpulse_core.metrics import counter

SERVICE = "insights"
INPUTS = counter("insights_inputs", "Input records folded into the views, by record type.", ("schema",))
REVIEWS = counter("insights_reviews", "Contacts flagged for review, by reason.", ("reason",))
QUALITY = Histogram("cxpulse_insights_quality_score", "Quality scores of ended contacts (0-100).", ("service",),
                    buckets=(10, 20, 30, 40, 50, 60, 70, 80, 90, 100))
ACTIVE = Gauge("cxpulse_insights_active_contacts",
               "Contacts in progress (the live view shows the most recent INSIGHTS_LIVE_ROWS).", ("service",))
SSE_CLIENTS = Gauge("cxpulse_insights_sse_clients", "Dashboards connected for live updates.", ("service",))
SSE_DROPPED = counter("insights_sse_dropped", "Event streams ended because the client went away or fell too far "
                      "behind (unread output above the per-client bound).")
