"""Churn features from an account's contact history, plus words for each.

Every feature is chosen so that one more *negative contact* (overall and end
score <= NEG) can only move it in its risk direction (MONOTONE). Together with
LightGBM monotone constraints this makes "more negative contacts never lower
risk" hold by construction. That is why some familiar features are reshaped:
  * mean and last-end sentiment are floored at NEG (below it, a new negative
    contact could raise a mean; min_score and counts carry the depth instead);
  * the trend across contacts is the largest drop between an earlier and a later
    contact (a max over pairs, so adding a contact never shrinks it) rather than
    a regression slope, which an extra old negative contact would *raise*;
  * channel mix is a count of voice contacts, not a share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cxpulse_churn.history import visible

NEG = -0.25  # a contact is negative when overall_score <= NEG
POS = 0.25  # ... and positive when overall_score >= POS
DAY_MS = 86_400_000
CAP_DAYS = 365.0  # "never" / "longer than a year" for the days-since features

# name -> monotone direction (+1: higher value never lowers risk; -1: never raises it)
MONOTONE: dict[str, int] = {
    "contacts_7d": 1, "contacts_30d": 1, "contacts_90d": 1,
    "negative_contacts_30d": 1, "negative_share_90d": 1,
    "mean_score_90d": -1, "min_score_90d": -1, "sentiment_drop_90d": 1,
    "repeat_contacts_30d": 1, "escalations_90d": 1, "last_end_score": -1,
    "deescalations_90d": -1, "voice_contacts_30d": 1,
    "days_since_last_contact": -1, "days_since_last_positive": 1,
    "peak_anger_30d": 1, "unresolved_30d": 1, "cancellation_contacts_90d": 1,
}
FEATURE_NAMES: tuple[str, ...] = tuple(MONOTONE)


def feature_dict(history: list[dict[str, Any]], as_of_ms: int) -> dict[str, float]:
    """Features of the contacts that ended at or before as_of_ms (later ones are ignored)."""
    hist = sorted(visible(history, as_of_ms), key=lambda e: e["ended_time"])
    t7, t30, t90 = (as_of_ms - d * DAY_MS for d in (7, 30, 90))
    f = dict.fromkeys(FEATURE_NAMES, 0.0)
    total90 = neg90 = 0
    sum90 = 0.0
    min90 = runmax = None
    drop = 0.0
    prev_t: int | None = None
    last_pos: int | None = None
    for e in hist:
        t, s = e["ended_time"], e["overall_score"]
        if s >= POS:
            last_pos = t
        if t > t30 and prev_t is not None and t - prev_t <= 7 * DAY_MS:
            f["repeat_contacts_30d"] += 1
        prev_t = t
        if t <= t90:
            continue
        total90 += 1
        sum90 += s
        neg90 += s <= NEG
        min90 = s if min90 is None else min(min90, s)
        runmax = s if runmax is None else max(runmax, s)
        drop = max(drop, runmax - s)
        f["escalations_90d"] += bool(e.get("escalated"))
        f["deescalations_90d"] += e["start_score"] <= NEG < e["end_score"]
        f["cancellation_contacts_90d"] += e.get("journey_stage") == "cancellation"
        if t > t30:
            f["contacts_30d"] += 1
            f["negative_contacts_30d"] += s <= NEG
            f["voice_contacts_30d"] += e["channel"] == "voice"
            f["peak_anger_30d"] = max(f["peak_anger_30d"], e["peak_anger"])
            f["unresolved_30d"] += e["status"] != "completed" or e["end_score"] <= NEG
            f["contacts_7d"] += t > t7
    f["contacts_90d"] = float(total90)
    if total90:
        f["negative_share_90d"] = neg90 / total90
        f["mean_score_90d"] = max(NEG, sum90 / total90)
        f["min_score_90d"] = min90
        f["sentiment_drop_90d"] = drop
    if hist:
        f["last_end_score"] = max(NEG, hist[-1]["end_score"])
        f["days_since_last_contact"] = min(CAP_DAYS, (as_of_ms - hist[-1]["ended_time"]) / DAY_MS)
    else:
        f["days_since_last_contact"] = CAP_DAYS
    f["days_since_last_positive"] = (
        CAP_DAYS if last_pos is None else min(CAP_DAYS, (as_of_ms - last_pos) / DAY_MS)
    )
    return {k: float(v) for k, v in f.items()}


def features(history: list[dict[str, Any]], as_of_ms: int) -> list[float]:
    """Feature vector in FEATURE_NAMES order."""
    d = feature_dict(history, as_of_ms)
    return [d[name] for name in FEATURE_NAMES]


def _n(v: float, one: str, many: str) -> str:
    k = round(v)
    return f"{k} {one if k == 1 else many}"


# Phrases for a retention agent. Floored features say "or worse" at the floor,
# because the exact value below NEG is not kept in the vector.
REASON_TEXT: dict[str, Callable[[float], str]] = {
    "contacts_7d": lambda v: _n(v, "contact", "contacts") + " in the last 7 days",
    "contacts_30d": lambda v: _n(v, "contact", "contacts") + " in the last 30 days",
    "contacts_90d": lambda v: _n(v, "contact", "contacts") + " in the last 90 days",
    "negative_contacts_30d": lambda v: _n(v, "negative contact", "negative contacts")
    + " in the last 30 days",
    "negative_share_90d": lambda v: f"{v:.0%} of contacts in the last 90 days were negative",
    "mean_score_90d": lambda v: "average sentiment over 90 days "
    + (f"{NEG:+.2f} or worse" if v <= NEG else f"{v:+.2f}"),
    "min_score_90d": lambda v: f"worst contact in 90 days scored {v:+.2f}",
    "sentiment_drop_90d": lambda v: f"sentiment fell by {v:.2f} between contacts (90 days)",
    "repeat_contacts_30d": lambda v: _n(v, "repeat contact", "repeat contacts")
    + " within a week of the previous one (30 days)",
    "escalations_90d": lambda v: _n(v, "escalation", "escalations") + " in the last 90 days",
    "last_end_score": lambda v: "last contact ended "
    + (f"negative ({NEG:+.2f} or worse)" if v <= NEG else f"{'positive' if v >= POS else 'neutral'} ({v:+.2f})"),
    "deescalations_90d": lambda v: _n(v, "contact", "contacts")
    + " turned around from negative in 90 days",
    "voice_contacts_30d": lambda v: _n(v, "phone call", "phone calls") + " in the last 30 days",
    "days_since_last_contact": lambda v: "no contact for over a year"
    if v >= CAP_DAYS else f"last contact {v:.0f} days ago",
    "days_since_last_positive": lambda v: "no positive contact in over a year"
    if v >= CAP_DAYS else f"last positive contact {v:.0f} days ago",
    "peak_anger_30d": lambda v: f"peak anger {v:.0%} in the last 30 days",
    "unresolved_30d": lambda v: _n(v, "unresolved contact", "unresolved contacts")
    + " in the last 30 days",
    "cancellation_contacts_90d": lambda v: _n(v, "cancellation enquiry", "cancellation enquiries")
    + " in the last 90 days",
}


def reason_text(name: str, value: float) -> str:
    """Words for one feature value, e.g. '4 contacts in the last 7 days'."""
    return REASON_TEXT[name](value)
