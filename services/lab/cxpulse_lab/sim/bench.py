"""`cxpulse bench` (make bench): every benchmark in one run against one broker; prints a table and writes
out/bench/results.json and out/bench/latency.png. Numbers are medians of several runs where a benchmark repeats;
ratios compare figures measured in this same process and run, since the machine is shared and noisy."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from cxpulse_core.settings import KafkaSettings
from cxpulse_core.testing.broker import test_broker


def _machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg(), "python": platform.python_version(),
            "platform": platform.platform()}


def _section(results: dict[str, Any], name: str, run: Any) -> None:
    started = time.perf_counter()
    print(f"bench: {name} ...", flush=True)
    results[name] = run()
    results.setdefault("seconds", {})[name] = round(time.perf_counter() - started, 1)
    print(f"bench: {name}: {json.dumps(results[name])[:400]}", flush=True)


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    e2e = results.get("e2e", {}).get("e2e_latency_ms", {})
    if not e2e:
        return
    rates = sorted(e2e, key=float)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=False)
    for ax, hop in zip(axes, ("sentiment", "escalation", "notification"), strict=True):
        for q, style in (("p50", "o-"), ("p95", "s--"), ("p99", "^:")):
            ax.plot([float(r) for r in rates], [e2e[r][hop].get(q, float("nan")) for r in rates], style, label=q)
        ax.set_title(f"utterance -> {hop}")
        ax.set_xlabel("utterances / s")
        ax.set_ylabel("ms")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("cxpulse end-to-end latency (2-core machine, local broker)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(results: dict[str, Any]) -> str:
    lines = ["", "rate  hop            p50 ms   p95 ms   p99 ms      n"]
    for rate, hops in results.get("e2e", {}).get("e2e_latency_ms", {}).items():
        for hop, p in hops.items():
            if p.get("n"):
                lines.append(f"{rate:>4}  {hop:<13} {p['p50']:>7.0f}  {p['p95']:>7.0f}  {p['p99']:>7.0f}  {p['n']:>5}")
    sentiment = results.get("sentiment_throughput", {})
    if sentiment:
        lines.append(f"sentiment: raw model {sentiment['raw_model_per_s']}/s, service {sentiment['service_per_s']}/s "
                     f"({sentiment['service_vs_raw']:.0%})")
    if "ingest" in results:
        lines.append(f"ingest: {results['ingest']['service_events_per_s']} events/s through Kafka "
                     f"(domain alone {results['ingest']['domain_events_per_s']}/s)")
        redaction = results["ingest"].get("redaction_worst_case")
        if redaction:
            lines.append(f"redaction, worst-case 64 KB inputs: >= {redaction['worst_mb_per_s']} MB/s, 4x input -> "
                         f"<= {redaction['max_x4_time_ratio']}x time (linear ~ 4)")
    if "churn" in results:
        lines.append(f"churn rescoring with reasons: {results['churn']}")
    if "insights_slow_clients" in results:
        d = results["insights_slow_clients"]
        lines.append(f"insights with {d['slow_sse_clients']} non-reading SSE clients: RSS max {d['rss_mb']['max']} MB, "
                     f"/api/* max {d['api_latency_s']['max']} s, {d['sse_streams_dropped']:.0f} streams dropped")
    if "insights_dashboard" in results:
        d = results["insights_dashboard"]
        lines.append(f"insights: {d['sse_clients']} SSE clients at {d['utterances_per_s']:.0f} utt/s: "
                     f"{d['cpu_core_fraction']['median']:.0%} of a core (median), first load "
                     f"{d['first_load_bytes']['total'] / 1000:.0f} KB")
    if "e2e" in results:
        lines.append(f"max sustained: {results['e2e']['max_sustained_utterances_per_s']} utterances/s")
        per_rate = results["e2e"].get("cpu_ms_per_utterance") or {}
        names = sorted({n for row in per_rate.values() for n in row}, key=lambda n: (n == "broker", n))
        if per_rate:
            lines.append("CPU ms/utterance " + " ".join(f"{n[:12]:>12}" for n in names) + "        total")
            for rate, row in per_rate.items():
                lines.append(f"  at {rate:>4}/s     " + " ".join(f"{row.get(n, 0):>12.2f}" for n in names)
                             + f" {sum(row.values()):>12.2f}")
    if "sentiment_replicas" in results:
        r = results["sentiment_replicas"]
        c = r["rebalance_mid_stream"]
        lines.append(f"sentiment replicas ({r['partitions']} partitions): 1 -> {r['one_replica_per_s']}/s, "
                     f"2 -> {r['two_replicas_per_s']}/s ({r['speedup']}x); replica joining mid-stream: "
                     f"{c['lost']} lost, {c['duplicated']} duplicated, {c['contacts_renumbered']} contacts renumbered "
                     f"(partitions {c['partitions_moved']} moved)")
    if "rss_mb" in results.get("ttl", {}):
        ttl = results["ttl"]
        lines.append(f"ttl: {ttl['contacts']} never-ending contacts, TTL {ttl['ttl_s']} s; RSS MB baseline/peak/after, "
                     "share of the growth returned, growth of a second wave; recovery after kill -9 (s):")
        for name, rss in ttl["rss_mb"].items():
            lines.append(f"  {name:<13} {rss['baseline']:>7} {rss['peak']:>7} {rss['after_ttl']:>7}  "
                         f"{ttl['returned_share'][name]}  second wave {ttl['second_wave_growth_mb'][name]:+} MB  "
                         f"{ttl.get('recovery_after_kill9_s', {}).get(name)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cxpulse bench", description=__doc__)
    parser.add_argument("--out", default="out/bench")
    parser.add_argument("--only",
                        help="comma-separated sections: ingest,sentiment,replicas,churn,notification,insights,"
                             "insights_slow,e2e,ttl")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each end-to-end rate phase")
    parser.add_argument("--replica-utterances", type=int, default=3000, help="utterances per replicas run")
    parser.add_argument("--ttl-contacts", type=int, default=20_000, help="never-ending contacts in the ttl section")
    parser.add_argument("--ttl-s", type=float, default=60.0, help="per-contact TTL the ttl section runs with")
    args = parser.parse_args(argv)
    wanted = set((args.only or "ingest,sentiment,replicas,churn,notification,insights,insights_slow,e2e,ttl")
                 .split(","))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # Sections not run now keep their last results (e.g. after `--only ttl`).
    previous = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
    results: dict[str, Any] = previous | {"machine": _machine(),
                                          "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with test_broker() as bootstrap:
        kafka = KafkaSettings(bootstrap_servers=bootstrap)
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap  # for benchmarks that read it themselves
        if "ingest" in wanted:
            from cxpulse_lab.ingest.bench import run as ingest

            _section(results, "ingest", lambda: ingest(kafka))
        if "sentiment" in wanted:
            from cxpulse_lab.sentiment.bench_service import run as sentiment

            _section(results, "sentiment_throughput", lambda: sentiment(kafka))
        if "replicas" in wanted:
            from .bench_replicas import run as replicas

            _section(results, "sentiment_replicas", lambda: replicas(kafka, n=args.replica_utterances))
        if "churn" in wanted:
            from cxpulse_lab.churn.bench import run as churn

            _section(results, "churn", churn)
        if "notification" in wanted:
            from cxpulse_lab.notification.bench import run as notification

            _section(results, "notification", notification)
        if "insights" in wanted:
            from cxpulse_lab.insights.bench import run as insights

            _section(results, "insights_dashboard", lambda: insights(kafka))
        if "insights_slow" in wanted:
            from cxpulse_lab.insights.bench_slow import run as insights_slow

            _section(results, "insights_slow_clients", lambda: insights_slow(kafka))
        if "e2e" in wanted:
            from .bench_e2e import run as e2e

            _section(results, "e2e", lambda: e2e(kafka, seconds=args.seconds))
            results["e2e_latency_ms"] = results["e2e"]["e2e_latency_ms"]
        if "ttl" in wanted:
            from .bench_ttl import run as ttl

            _section(results, "ttl", lambda: ttl(kafka, args.ttl_contacts, args.ttl_s))
            results["recovery_after_kill9_s"] = results["ttl"].get("recovery_after_kill9_s")
    (out / "results.json").write_text(json.dumps(results, indent=2))
    chart(results, out / "latency.png")
    print(table(results))
    print(f"\nresults: {out / 'results.json'}")
    return 0
