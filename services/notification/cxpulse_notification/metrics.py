"""The notification service's metrics (besides the shared loop's), built with the core helpers."""

from __future__ import annotations

from prometheus_client import Gauge

from cxpulse_core.metrics import counter, latency_seconds

SERVICE = "notification"

SENT = counter("notifications_sent", "Notifications delivered (receiver accepted them).", ("channel",))
FAILED = counter("notifications_failed", "Deliveries given up and dead-lettered.", ("channel", "reason"))
RETRIED = counter("notifications_retried", "Attempts that failed and were scheduled again.", ("channel",))
SKIPPED = counter("notifications_skipped", "Deliveries not attempted: deduplicated or rate_limited.",
                  ("channel", "outcome"))
DELIVERY_LATENCY = latency_seconds("notification_delivery_latency", "origin_time of the alert to its delivery.",
                              ("channel",))
ATTEMPT_DURATION = latency_seconds("notification_attempt_duration", "Duration of one delivery attempt.", ("channel",))
PENDING = Gauge("cxpulse_notification_pending", "Deliveries started and not yet final.", ("service",))
