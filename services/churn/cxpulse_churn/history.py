"""Per-account contact history: compact, JSON-serialisable entries.

The churn service keeps one bounded list per account in a faust table (with a
changelog), so entries are plain dicts of str/int/float/bool and every function
here is pure: it returns a new list and never mutates its input, which keeps
table updates and replays predictable.
"""

from __future__ import annotations

from typing import Any

MAX_ENTRIES = 50

# Keys every entry carries; `journey_stage` and `peak_frustration` are the two
# fields added beyond the brief (both derived from ContactSummary).
ENTRY_KEYS = (
    "contact_id", "ended_time", "channel", "overall_score", "start_score", "end_score",
    "trend", "negative_turns", "turns", "peak_anger", "peak_frustration", "escalated",
    "status", "journey_stage",
)


def _clamp(x: Any, lo: float = -1.0, hi: float = 1.0) -> float:
    # Upstream floats are 32-bit Avro floats and may drift a hair outside [-1, 1].
    return max(lo, min(hi, float(x)))


def entry_from_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """Compact entry from a decoded ContactSummary record (fastavro dict).

    Raises KeyError naming the field when a required field is missing, so a
    malformed record fails loudly instead of silently scoring as neutral.
    """
    for key in ("contact_id", "ended_time", "overall_score", "customer"):
        if key not in summary:
            raise KeyError(f"ContactSummary lacks required field {key!r}")
    customer = summary["customer"] or {}
    return {
        "contact_id": str(summary["contact_id"]),
        "ended_time": int(summary["ended_time"]),
        "channel": str(summary.get("channel") or "voice"),
        "overall_score": _clamp(summary["overall_score"]),
        "start_score": _clamp(summary.get("start_score", 0.0)),
        "end_score": _clamp(summary.get("end_score", 0.0)),
        "trend": _clamp(summary.get("trend", 0.0), -2.0, 2.0),
        "negative_turns": int(customer.get("negative_turns", 0)),
        "turns": int(summary.get("turns", 0)),
        "peak_anger": _clamp(customer.get("peak_anger", 0.0), 0.0, 1.0),
        "peak_frustration": _clamp(customer.get("peak_frustration", 0.0), 0.0, 1.0),
        "escalated": False,
        "status": str(summary.get("status") or "completed"),
        "journey_stage": str(summary.get("journey_stage") or ""),
    }


def _sort_key(e: dict[str, Any]) -> tuple[int, str]:
    # contact_id breaks ties so two replicas order equal timestamps identically.
    return (int(e["ended_time"]), str(e["contact_id"]))


def add_entry(
    history: list[dict[str, Any]], entry: dict[str, Any], max_entries: int = MAX_ENTRIES
) -> list[dict[str, Any]]:
    """New history with `entry` added, deduplicated by contact_id, time-sorted, bounded.

    A replayed summary replaces the earlier entry instead of counting twice. An
    escalation already recorded for the contact (possibly as a pending stub, see
    mark_escalated) survives the replacement.
    """
    if max_entries < 1:
        raise ValueError("max_entries must be >= 1")
    cid = entry["contact_id"]
    previous = [e for e in history if e["contact_id"] == cid]
    new = dict(entry)
    new.pop("pending", None)
    new["escalated"] = bool(entry.get("escalated")) or any(e.get("escalated") for e in previous)
    kept = [e for e in history if e["contact_id"] != cid]
    kept.append(new)
    kept.sort(key=_sort_key)
    # Keep the most recent entries: old contacts matter least for 30-day churn.
    return kept[-max_entries:]


def mark_escalated(
    history: list[dict[str, Any]], contact_id: str, at_ms: int | None = None
) -> list[dict[str, Any]]:
    """New history with the contact flagged as escalated.

    Escalations usually arrive *before* the contact's summary (they fire mid-call).
    Without `at_ms` an unknown contact is ignored; with it, a pending stub is
    stored so the later summary inherits the flag. Features skip pending stubs.
    """
    if any(e["contact_id"] == contact_id for e in history):
        return [dict(e, escalated=True) if e["contact_id"] == contact_id else e for e in history]
    if at_ms is None:
        return list(history)
    stub = {"contact_id": contact_id, "ended_time": int(at_ms), "escalated": True, "pending": True}
    return sorted([*history, stub], key=_sort_key)[-MAX_ENTRIES:]


def visible(history: list[dict[str, Any]], as_of_ms: int) -> list[dict[str, Any]]:
    """Completed entries (no pending stubs) that ended at or before as_of_ms, time-sorted."""
    return [e for e in history if not e.get("pending") and int(e["ended_time"]) <= as_of_ms]


def oldest_pending(history: list[dict[str, Any]]) -> int | None:
    """ended_time (the escalation's time) of the oldest pending stub, None when there is none."""
    return min((int(e["ended_time"]) for e in history if e.get("pending")), default=None)


def drop_stale_pending(history: list[dict[str, Any]], before_ms: int) -> list[dict[str, Any]]:
    """New history without the pending stubs from before `before_ms`: escalations of contacts whose summary never
    came (a contact that never ended), which would otherwise stay, and displace real contacts, forever."""
    return [e for e in history if not (e.get("pending") and int(e["ended_time"]) < before_ms)]
