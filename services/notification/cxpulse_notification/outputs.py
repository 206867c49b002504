"""The records the service writes besides its state: the delivery log (cx.notifications.log) and, for a delivery
given up, the dead letter of its input (with the delivery in extra headers). The stream loop produces them and
stamps produced_time; a final outcome's records count against its input's offset."""

from __future__ import annotations

import time
import uuid

from cxpulse_core.dlq import Reject
from cxpulse_core.ids import derived_id
from cxpulse_core.loop import LoopConfig, Output, deadletter

from .notice import Delivery
from .policy import AttemptResult

LOG_SCHEMA = "io.cxpulse.notification.NotificationDelivery"


class DeliveryLog:
    def __init__(self, log_topic: str) -> None:
        self.log_topic = log_topic
        self.run_id = uuid.uuid4().hex  # attempts restart at 1 after a restart: keep their event ids distinct

    def record(self, delivery: Delivery, outcome: str, result: AttemptResult | None, error: str | None = None,
               next_attempt_ms: int | None = None) -> Output:
        now = int(time.time() * 1000)
        notice = delivery.notice
        value = {
            "event_id": derived_id(self.run_id, delivery.key, delivery.attempt, outcome),
            "alert_id": notice.alert_id, "contact_id": notice.contact_id, "channel": delivery.target.channel,
            "recipient": delivery.target.recipient, "attempt": delivery.attempt, "outcome": outcome,
            "status_code": result.status_code if result else None,
            "error": (result.error if result and result.error else error),
            "next_attempt_time": next_attempt_ms, "latency_ms": float(now - notice.origin_time),
            "origin_time": notice.origin_time, "produced_time": 0,
        }
        return Output(self.log_topic, notice.alert_id, LOG_SCHEMA, value)


def failed_deadletter(config: LoopConfig, delivery: Delivery, reason: str, result: AttemptResult | None,
                      error: str | None) -> Output:
    """The input's original bytes and key, the reason in headers, and which delivery failed."""
    detail = (f"{delivery.target.channel} {delivery.target.recipient}: {reason} after {delivery.attempt} "
              f"attempt(s): {result.error if result else error}")
    message = delivery.source.message
    assert message is not None  # set by the loop before any attempt runs
    return deadletter(config, message, Reject(reason, detail, "DeliveryError"), extra=[
        ("cxpulse.notification.channel", delivery.target.channel.encode()),
        ("cxpulse.notification.recipient", delivery.target.recipient.encode()),
        ("cxpulse.notification.attempts", str(delivery.attempt).encode()),
        ("cxpulse.notification.alert_id", delivery.notice.alert_id.encode())])
