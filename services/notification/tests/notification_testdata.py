"""Sample records for the unit tests."""

from __future__ import annotations

from typing import Any


def alert_value(**overrides: Any) -> dict[str, Any]:
    value = {"event_id": "a-1", "contact_id": "c-5001", "account_id": "acct-1042", "customer_id": None,
             "agent_id": "agent-7", "queue": "billing", "channel": "voice", "journey_stage": "billing",
             "rule": "anger_spike", "reason": "anger 0.82 > 0.7 <script>", "evidence": [], "churn_probability": 0.71,
             "alert_id": "a-1", "severity": "critical", "team": "billing", "summary": "Angry customer on c-5001",
             "event_time": 1764190804000, "origin_time": 1764190804001, "produced_time": 1764190804060}
    return value | overrides
