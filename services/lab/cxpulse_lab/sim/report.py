"""The demo's figures: live console lines and the final report, all computed from what PipelineWatch read."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .watch import NEGATIVE, PipelineWatch

STRESSFUL_ANGER = 0.5


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])

    return {"n": len(ordered), "p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": float(ordered[-1])}


def agent_figures(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per agent: contacts, stressful contacts (customer negative for 2+ turns or angry), de-escalations (started
    negative, ended clearly better), mean customer end sentiment."""
    by_agent: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for summary in summaries:
        # Contact Lens segment streams carry no agent id: those contacts are grouped apart.
        by_agent[summary.get("agent_id") or "(no agent id)"].append(summary)
    rows = []
    for agent, contacts in sorted(by_agent.items()):
        stressful = [c for c in contacts if c["customer"]["negative_turns"] >= 2
                     or c["customer"]["peak_anger"] >= STRESSFUL_ANGER]
        recovered = [c for c in stressful if c["start_score"] <= NEGATIVE and c["end_score"] - c["start_score"] >= 0.3]
        rows.append({"agent_id": agent, "contacts": len(contacts), "stressful_contacts": len(stressful),
                     "de_escalation_rate": round(len(recovered) / len(stressful), 3) if stressful else None,
                     "mean_customer_end_score": round(sum(c["end_score"] for c in contacts) / len(contacts), 3)})
    return sorted(rows, key=lambda r: -r["contacts"])


def build(watch: PipelineWatch, meta: dict[str, Any]) -> dict[str, Any]:
    with watch.lock:
        risky = sorted(watch.risk_latest.values(), key=lambda r: -r["probability"])[:10]
        movers = sorted(((a, r["probability"] - watch.risk_first[a]) for a, r in watch.risk_latest.items()),
                        key=lambda m: -m[1])[:5]
        return {
            "run": meta,
            "counts": dict(sorted(watch.counts.items())),
            "deadletters": dict(watch.deadletters),
            "redactions": dict(watch.redactions),
            "latency_ms": {hop: percentiles(v) for hop, v in sorted(watch.latencies.items())},
            "contacts": {"completed": len(watch.summaries), "still_open": len(watch.live),
                         "ended_negative": sum(s["overall_score"] <= NEGATIVE for s in watch.summaries)},
            "top_at_risk_accounts": [{"account_id": r["account_id"], "probability": round(r["probability"], 4),
                                      "band": r["band"], "contacts_seen": r["contacts_seen"],
                                      "reasons": [x["text"] for x in r["reasons"]]} for r in risky],
            "churn_movers": [{"account_id": a, "change": round(d, 4)} for a, d in movers if d > 0],
            "escalations": [{"contact_id": e["contact_id"], "rule": e["rule"], "queue": e["target_queue"],
                             "priority": e["priority"], "reason": e["reason"]} for e in watch.escalations],
            "alerts": [{"contact_id": a["contact_id"], "rule": a["rule"], "severity": a["severity"],
                        "summary": a["summary"]} for a in watch.alerts],
            "notifications": dict(watch.deliveries),
            "agents": agent_figures(watch.summaries),
        }


def console_line(watch: PipelineWatch, elapsed_s: float) -> str:
    negative = watch.negative_now()
    with watch.lock:
        c = watch.counts
        risk_high = sum(r["band"] in ("high", "critical") for r in watch.risk_latest.values())
        lat = percentiles(watch.latencies.get("sentiment", [])[-500:])
        return (f"[{elapsed_s:5.0f}s] utterances in {c['Utterance']:>6} | scored {c['UtteranceSentiment']:>6} "
                f"(p50 {lat.get('p50', 0):.0f} ms) | contacts done {c['ContactSummary']:>4}, negative now "
                f"{len(negative):>3} | escalations {c['Escalation']:>3} | alerts {c['SupervisorAlert']:>3} | "
                f"notified {sum(v for k, v in watch.deliveries.items() if k.endswith(':delivered')):>3} | "
                f"risk high+ {risk_high:>3} | dead letters {sum(watch.deadletters.values())}")


def render(report: dict[str, Any]) -> str:
    lines = ["", "cxpulse demo report", "=" * 19]
    lines.append("records: " + ", ".join(f"{k} {v}" for k, v in report["counts"].items()))
    lines.append("dead letters: " + (", ".join(f"{k} {v}" for k, v in report["deadletters"].items()) or "none"))
    lines.append("PII redacted: " + (", ".join(f"{k} {v}" for k, v in report["redactions"].items()) or "none"))
    lines.append("latency from raw event to each hop (ms):")
    for hop, p in report["latency_ms"].items():
        if p["n"]:
            lines.append(f"  {hop:<15} n={p['n']:<6} p50={p['p50']:>7.1f} p95={p['p95']:>7.1f} p99={p['p99']:>7.1f}")
    lines.append("top at-risk accounts:")
    for r in report["top_at_risk_accounts"][:5]:
        lines.append(f"  {r['account_id']:<24} {r['probability']:.3f} {r['band']:<8} {'; '.join(r['reasons'])}")
    lines.append(f"escalations ({len(report['escalations'])}):")
    for e in report["escalations"][:8]:
        lines.append(f"  {e['contact_id']:<22} -> {e['queue']:<12} p{e['priority']} [{e['rule']}] {e['reason']}")
    lines.append(f"alerts: {len(report['alerts'])}; notifications: {report['notifications']}")
    lines.append("agents (contacts, stressful, de-escalation rate, mean customer end score):")
    for a in report["agents"][:8]:
        lines.append(f"  {a['agent_id']:<12} {a['contacts']:>4} {a['stressful_contacts']:>4} "
                     f"{a['de_escalation_rate'] if a['de_escalation_rate'] is not None else '-':>6} "
                     f"{a['mean_customer_end_score']:>7}")
    return "\n".join(lines)
