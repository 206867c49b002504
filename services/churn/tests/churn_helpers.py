"""Hand-built contacts for tests: times are given in days before AS_OF."""

from __future__ import annotations

from typing import Any

from cxpulse_churn.features import DAY_MS

AS_OF = 1_750_000_000_000


def contact(cid: str, days_ago: float, overall: float, start: float = 0.0, end: float = 0.0,
            channel: str = "voice", escalated: bool = False, status: str = "completed",
            anger: float = 0.0, stage: str = "billing") -> dict[str, Any]:
    return {
        "contact_id": cid, "ended_time": int(AS_OF - days_ago * DAY_MS), "channel": channel,
        "overall_score": overall, "start_score": start, "end_score": end, "trend": end - start,
        "negative_turns": 0, "turns": 10, "peak_anger": anger, "peak_frustration": anger,
        "escalated": escalated, "status": status, "journey_stage": stage,
    }
