"""Writes the Grafana dashboards under deploy/grafana/dashboards/ (one per service and an overview).

    python deploy/grafana/build_dashboards.py          # rewrite the JSON files
    python deploy/grafana/build_dashboards.py --check  # exit 1 if a JSON file differs from what this writes

The JSON files are committed (Grafana provisioning and the Kubernetes ConfigMap read them); this script is their
source, so edit it and rerun rather than editing the JSON. tests/ops/test_manifests.py checks that the files are
up to date and that every metric a query names exists in the services' metrics modules. Standard library only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
DS = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
UTTERANCES = 'topic=~"(.*\\\\.)?cx\\\\.sentiment\\\\.utterances"'


def q(expr: str, legend: str = "", ref: str = "A") -> dict[str, Any]:
    return {"datasource": DS, "expr": expr, "legendFormat": legend or "__auto", "range": True, "refId": ref}


def quantiles(metric: str, selector: str, by: str, legend: str, qs: tuple[float, ...] = (0.5, 0.95, 0.99)) -> list:
    """histogram_quantile targets for a *_seconds histogram, one per quantile."""
    group = f"{by}, le" if by else "le"
    return [q(f"histogram_quantile({x}, sum by ({group}) (rate({metric}_bucket{{{selector}}}[{RATE}])))",
              f"p{round(x * 100)} {legend}".strip(), chr(ord("A") + i)) for i, x in enumerate(qs)]


class Board:
    def __init__(self, uid: str, title: str, description: str, tags: list[str]) -> None:
        self.uid, self.title, self.description, self.tags = uid, title, description, tags
        self.panels: list[dict[str, Any]] = []
        self.x = self.y = 0

    def row(self, title: str) -> None:
        if self.x:
            self.x, self.y = 0, self.y + 8
        self.panels.append({"type": "row", "title": title, "collapsed": False, "panels": [], "id": len(self.panels) + 1,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}})
        self.y += 1

    def panel(self, title: str, targets: list[dict[str, Any]], unit: str = "short", kind: str = "timeseries",
              width: int = 12, description: str = "", stack: bool = False) -> None:
        if self.x + width > 24:
            self.x, self.y = 0, self.y + 8
        defaults: dict[str, Any] = {"unit": unit}
        if kind == "timeseries":
            defaults["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10 if stack else 0,
                                  "showPoints": "never", "spanNulls": False,
                                  "stacking": {"mode": "normal" if stack else "none", "group": "A"}}
        if kind == "stat":
            defaults["thresholds"] = {"mode": "absolute", "steps": [{"color": "red", "value": None},
                                                                     {"color": "green", "value": 1}]}
        options: dict[str, Any] = {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                                              "calcs": ["lastNotNull", "max"]},
                                   "tooltip": {"mode": "multi", "sort": "desc"}}
        if kind == "stat":
            options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                       "colorMode": "background", "graphMode": "none", "textMode": "value_and_name"}
        self.panels.append({"type": kind, "title": title, "description": description, "datasource": DS,
                            "id": len(self.panels) + 1, "gridPos": {"h": 8, "w": width, "x": self.x, "y": self.y},
                            "targets": targets, "fieldConfig": {"defaults": defaults, "overrides": []},
                            "options": options})
        self.x += width
        if self.x >= 24:
            self.x, self.y = 0, self.y + 8

    def json(self) -> dict[str, Any]:
        return {
            "uid": self.uid, "title": self.title, "description": self.description, "tags": ["cxpulse", *self.tags],
            "schemaVersion": 39, "version": 1, "editable": True, "graphTooltip": 1, "timezone": "browser",
            "time": {"from": "now-1h", "to": "now"}, "refresh": "30s", "fiscalYearStartMonth": 0, "liveNow": False,
            "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                                      "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                                      "name": "Annotations & Alerts", "type": "dashboard"}]},
            "templating": {"list": [{"name": "datasource", "label": "Data source", "type": "datasource",
                                     "query": "prometheus", "current": {}, "hide": 0, "refresh": 1,
                                     "includeAll": False, "multi": False, "options": [], "regex": ""}]},
            "links": [{"title": "cxpulse", "type": "dashboards", "tags": ["cxpulse"], "asDropdown": True,
                       "includeVars": False, "keepTime": True}],
            "panels": self.panels,
        }


def common(b: Board, svc: str, lag: bool, loop: bool) -> None:
    """Panels every service built on the shared metrics has; `loop`: it runs cxpulse_core's stream loop."""
    s = f'service="{svc}"'
    b.row("Throughput and health")
    b.panel("Consumed per topic", [q(f"sum by (topic) (rate(cxpulse_messages_in_total{{{s}}}[{RATE}]))", "{{topic}}")],
            "reqps", width=8)
    b.panel("Produced per topic", [q(f"sum by (topic) (rate(cxpulse_messages_out_total{{{s}}}[{RATE}]))",
                                     "{{topic}}")], "reqps", width=8)
    b.panel("Ready replicas", [q(f"sum(cxpulse_ready{{{s}}})", "ready")], "none", kind="stat", width=8)
    b.panel("Dead letters by reason", [q(f"sum by (reason) (rate(cxpulse_deadletters_total{{{s}}}[{RATE}]))",
                                         "{{reason}}")], "reqps", stack=True, width=8)
    if lag:
        b.panel("Consumer lag by partition", [q(f"sum by (topic, partition) (cxpulse_consumer_lag{{{s}}})",
                                                "{{topic}}/{{partition}}")], "short", width=8)
    if loop:
        b.panel("Produce errors", [q(f"sum(increase(cxpulse_produce_errors_total{{{s}}}[{RATE}]))", "errors")],
                "short", width=8)
        b.row("Latency")
        b.panel("Batch processing latency", quantiles("cxpulse_processing_latency_seconds", s, "", ""), "s", width=8)
        b.panel("Batch size", quantiles("cxpulse_batch_size", s, "", "", (0.5, 0.99)), "short", width=8)
        b.panel("Pipeline latency (origin -> produced) per topic",
                quantiles("cxpulse_pipeline_latency_seconds", s, "topic", "{{topic}}"), "s", width=8)


def process(b: Board, component: str) -> None:
    b.row("Process")
    sel = f'job="cxpulse", component="{component}"'
    b.panel("Resident memory", [q(f"process_resident_memory_bytes{{{sel}}}", "{{instance}}")], "bytes", width=12)
    b.panel("CPU", [q(f"rate(process_cpu_seconds_total{{{sel}}}[{RATE}])", "{{instance}}")], "percentunit",
            width=12)


def ingest() -> Board:
    b = Board("cxpulse-ingest", "cxpulse / ingest", "Validation, dedup, ordering and PII redaction.", ["ingest"])
    common(b, "ingest", lag=True, loop=True)
    s = 'service="ingest"'
    b.row("Ingest")
    b.panel("Events produced by kind", [q(f"sum by (kind) (rate(cxpulse_ingest_events_total{{{s}}}[{RATE}]))",
                                          "{{kind}}")], "reqps", stack=True)
    b.panel("Rejected by reason", [q(f"sum by (reason) (rate(cxpulse_ingest_rejected_total{{{s}}}[{RATE}]))",
                                     "{{reason}}")], "reqps", stack=True)
    b.panel("PII redactions by type", [q(f"sum by (type) (rate(cxpulse_ingest_redactions_total{{{s}}}[{RATE}]))",
                                         "{{type}}")], "reqps", stack=True, width=8)
    b.panel("Duplicates dropped", [q(f"sum(rate(cxpulse_ingest_duplicates_total{{{s}}}[{RATE}]))", "duplicates")],
            "reqps", width=8)
    b.panel("Contact Lens partials dropped",
            [q(f"sum(rate(cxpulse_ingest_contactlens_partials_total{{{s}}}[{RATE}]))", "partials")], "reqps", width=8)
    process(b, "ingest")
    return b


def sentiment() -> Board:
    b = Board("cxpulse-sentiment", "cxpulse / sentiment", "Utterance and contact sentiment (exactly-once).",
              ["sentiment"])
    common(b, "sentiment", lag=True, loop=True)
    b.row("SLO")
    b.panel("Utterance -> sentiment latency (SLO p99 < 300 ms)",
            quantiles("cxpulse_pipeline_latency_seconds", f'service="sentiment", {UTTERANCES}', "", ""), "s", width=24)
    process(b, "sentiment")
    return b


def churn() -> Board:
    b = Board("cxpulse-churn", "cxpulse / churn-scoring", "Per-account churn risk (faust).", ["churn"])
    common(b, "churn-scoring", lag=True, loop=False)
    s = 'service="churn-scoring"'
    b.panel("Risk latency (origin -> cx.churn.risk)", quantiles("cxpulse_pipeline_latency_seconds", s, "", ""), "s",
            width=8)
    b.row("Scoring")
    b.panel("Scores by band", [q(f"sum by (band) (rate(cxpulse_churn_scores_total{{{s}}}[{RATE}]))", "{{band}}")],
            "reqps", stack=True, width=8)
    b.panel("Scores by trigger", [q(f"sum by (trigger) (rate(cxpulse_churn_scores_total{{{s}}}[{RATE}]))",
                                    "{{trigger}}")], "reqps", stack=True, width=8)
    b.panel("Skipped by reason", [q(f"sum by (reason) (rate(cxpulse_churn_skipped_total{{{s}}}[{RATE}]))",
                                    "{{reason}}")], "reqps", stack=True, width=8)
    b.panel("Scoring latency per batch", quantiles("cxpulse_churn_scoring_latency_seconds", s, "trigger", "{{trigger}}",
                                                    (0.5, 0.99)), "s", width=8)
    b.panel("Event -> score latency", quantiles("cxpulse_churn_event_latency_seconds", s, "", ""), "s", width=8)
    b.panel("Accounts in the history table", [q(f"sum(cxpulse_churn_accounts{{{s}}})", "accounts")], "short",
            width=8)
    b.panel("Decay sweep duration", quantiles("cxpulse_churn_decay_sweep_seconds", s, "", "", (0.5, 0.99)), "s",
            width=24)
    process(b, "churn")
    return b


def routing() -> Board:
    b = Board("cxpulse-routing", "cxpulse / routing", "Escalations, supervisor alerts and agent guidance (faust).",
              ["routing"])
    common(b, "routing", lag=True, loop=False)
    s = 'service="routing"'
    b.row("Decisions")
    b.panel("Rule matches by rule and outcome",
            [q(f"sum by (rule, outcome) (rate(cxpulse_routing_decisions_total{{{s}}}[{RATE}]))",
               "{{rule}} {{outcome}}")], "reqps", width=12)
    b.panel("Escalations by queue", [q(f"sum by (queue) (rate(cxpulse_routing_escalations_total{{{s}}}[{RATE}]))",
                                       "{{queue}}")], "reqps", stack=True, width=12)
    b.panel("Supervisor alerts by severity and team",
            [q(f"sum by (severity, team) (rate(cxpulse_routing_alerts_total{{{s}}}[{RATE}]))",
               "{{severity}} {{team}}")], "reqps", stack=True, width=8)
    b.panel("Guidance by emotion", [q(f"sum by (emotion) (rate(cxpulse_routing_guidance_total{{{s}}}[{RATE}]))",
                                      "{{emotion}}")], "reqps", stack=True, width=8)
    b.panel("Rules reloads by outcome", [q(f"sum by (outcome) (increase(cxpulse_routing_rule_reloads_total{{{s}}}"
                                           f"[{RATE}]))", "{{outcome}}")], "short", width=8)
    b.row("Latency")
    b.panel("Utterance -> escalation latency (SLO p99 < 150 ms)",
            quantiles("cxpulse_routing_decision_latency_seconds", f'{s}, output="escalation"', "", ""), "s", width=12)
    b.panel("Origin -> output latency by output", quantiles("cxpulse_routing_decision_latency_seconds", s, "output",
                                                           "{{output}}", (0.5, 0.99)), "s", width=12)
    b.panel("Processing latency per record", quantiles("cxpulse_processing_latency_seconds", s, "", "", (0.5, 0.99)),
            "s", width=24)
    process(b, "routing")
    return b


def notification() -> Board:
    b = Board("cxpulse-notification", "cxpulse / notification", "Webhook, Slack and e-mail deliveries.",
              ["notification"])
    common(b, "notification", lag=False, loop=False)
    s = 'service="notification"'
    b.panel("Produce errors", [q(f"sum(increase(cxpulse_produce_errors_total{{{s}}}[{RATE}]))", "errors")], "short",
            width=8)
    b.row("Deliveries")
    b.panel("Sent by channel", [q(f"sum by (channel) (rate(cxpulse_notifications_sent_total{{{s}}}[{RATE}]))",
                                  "{{channel}}")], "reqps", stack=True, width=8)
    b.panel("Failed by channel and reason",
            [q(f"sum by (channel, reason) (rate(cxpulse_notifications_failed_total{{{s}}}[{RATE}]))",
               "{{channel}} {{reason}}")], "reqps", stack=True, width=8)
    b.panel("Retried by channel", [q(f"sum by (channel) (rate(cxpulse_notifications_retried_total{{{s}}}[{RATE}]))",
                                     "{{channel}}")], "reqps", stack=True, width=8)
    b.panel("Skipped by outcome", [q(f"sum by (channel, outcome) (rate(cxpulse_notifications_skipped_total{{{s}}}"
                                     f"[{RATE}]))", "{{channel}} {{outcome}}")], "reqps", stack=True, width=8)
    b.panel("Pending deliveries", [q(f"sum(cxpulse_notification_pending{{{s}}})", "pending")], "short", width=8)
    b.panel("Alert -> delivered latency by channel",
            quantiles("cxpulse_notification_delivery_latency_seconds", s, "channel", "{{channel}}", (0.5, 0.99)), "s",
            width=8)
    b.panel("Attempt duration by channel",
            quantiles("cxpulse_notification_attempt_duration_seconds", s, "channel", "{{channel}}", (0.5, 0.99)), "s",
            width=24)
    process(b, "notification")
    return b


def insights() -> Board:
    b = Board("cxpulse-insights", "cxpulse / insights", "Quality scorecards, coaching figures and the supervisor "
              "dashboard (in-memory views rebuilt by a replay at every start).", ["insights"])
    common(b, "insights", lag=True, loop=True)
    s = 'service="insights"'
    b.row("Insights")
    b.panel("Inputs folded into the views by record type",
            [q(f"sum by (schema) (rate(cxpulse_insights_inputs_total{{{s}}}[{RATE}]))", "{{schema}}")], "reqps",
            stack=True)
    b.panel("Contacts flagged for review by reason",
            [q(f"sum by (reason) (rate(cxpulse_insights_reviews_total{{{s}}}[{RATE}]))", "{{reason}}")], "reqps",
            stack=True)
    b.panel("Quality score of ended contacts (0-100)",
            quantiles("cxpulse_insights_quality_score", s, "", "", (0.1, 0.5, 0.9)), "none", width=8)
    b.panel("Contacts in progress (live view)", [q(f"sum(cxpulse_insights_active_contacts{{{s}}})", "contacts")],
            "short", width=8)
    b.panel("Dashboards connected", [
        q(f"sum(cxpulse_insights_sse_clients{{{s}}})", "connected", "A"),
        q(f"sum(rate(cxpulse_insights_sse_dropped_total{{{s}}}[{RATE}]))", "streams dropped /s", "B")], "short",
            width=8)
    process(b, "insights")
    return b


def overview() -> Board:
    b = Board("cxpulse-overview", "cxpulse / overview", "The whole pipeline: throughput, latency per hop, lag, "
              "dead letters. Per-service dashboards are linked at the top.", ["overview"])
    b.row("Health")
    b.panel("Targets up", [q('sum by (component) (up{job="cxpulse"})', "{{component}}")], "none", kind="stat",
            width=12)
    b.panel("Ready", [q("sum by (service) (cxpulse_ready)", "{{service}}")], "none", kind="stat", width=12,
            description="routing does not export cxpulse_ready; see its dashboard.")
    b.row("Throughput")
    b.panel("Consumed per topic", [q(f"sum by (topic) (rate(cxpulse_messages_in_total[{RATE}]))", "{{topic}}")],
            "reqps", width=8)
    b.panel("Produced per topic", [q(f"sum by (topic) (rate(cxpulse_messages_out_total[{RATE}]))", "{{topic}}")],
            "reqps", width=8)
    b.panel("Routing outputs", [
        q(f"sum(rate(cxpulse_routing_escalations_total[{RATE}]))", "escalations", "A"),
        q(f"sum(rate(cxpulse_routing_alerts_total[{RATE}]))", "supervisor alerts", "B"),
        q(f"sum(rate(cxpulse_routing_guidance_total[{RATE}]))", "guidance", "C")], "reqps", width=8)
    b.row("Latency per hop (origin_time -> produced_time)")
    b.panel("p99 per hop", [
        q(f"histogram_quantile(0.99, sum by (service, topic, le) "
          f"(rate(cxpulse_pipeline_latency_seconds_bucket[{RATE}])))",
          "{{service}} -> {{topic}}", "A"),
        q(f"histogram_quantile(0.99, sum by (output, le) "
          f"(rate(cxpulse_routing_decision_latency_seconds_bucket[{RATE}])))",
          "routing -> {{output}}", "B"),
        q(f"histogram_quantile(0.99, sum by (channel, le) (rate(cxpulse_notification_delivery_latency_seconds_bucket"
          f"[{RATE}])))", "notification -> {{channel}}", "C")], "s", width=12)
    b.panel("p50 per hop", [
        q(f"histogram_quantile(0.5, sum by (service, topic, le) "
          f"(rate(cxpulse_pipeline_latency_seconds_bucket[{RATE}])))",
          "{{service}} -> {{topic}}", "A"),
        q(f"histogram_quantile(0.5, sum by (output, le) "
          f"(rate(cxpulse_routing_decision_latency_seconds_bucket[{RATE}])))",
          "routing -> {{output}}", "B")], "s", width=12)
    b.panel("Utterance -> sentiment (SLO p99 < 300 ms)",
            quantiles("cxpulse_pipeline_latency_seconds", f'service="sentiment", {UTTERANCES}', "", ""), "s", width=12)
    b.panel("Utterance -> escalation (SLO p99 < 150 ms)",
            quantiles("cxpulse_routing_decision_latency_seconds", 'service="routing", output="escalation"', "", ""),
            "s", width=12)
    b.row("Backlog and errors")
    b.panel("Consumer lag per service and topic",
            [q("sum by (service, topic) (cxpulse_consumer_lag)", "{{service}} {{topic}}")], "short", width=8,
            description="Exported by the shared stream loop and the faust agent runtime.")
    b.panel("Dead letters by service and reason", [
        q(f"sum by (service, reason) (rate(cxpulse_deadletters_total[{RATE}]))", "{{service}} {{reason}}")],
            "reqps", stack=True, width=8)
    b.panel("Produce errors", [q(f"sum by (service) (increase(cxpulse_produce_errors_total[{RATE}]))",
                                 "{{service}}")], "short", width=8)
    b.row("Resources")
    b.panel("Resident memory", [q('sum by (component) (process_resident_memory_bytes{job="cxpulse"})',
                                  "{{component}}")], "bytes", width=12)
    b.panel("CPU", [q(f'sum by (component) (rate(process_cpu_seconds_total{{job="cxpulse"}}[{RATE}]))',
                      "{{component}}")], "percentunit", width=12)
    return b


BOARDS = {"overview": overview, "ingest": ingest, "sentiment": sentiment, "churn": churn, "routing": routing,
          "notification": notification, "insights": insights}


def render() -> dict[str, str]:
    """File name -> JSON text."""
    return {f"{name}.json": json.dumps(build().json(), indent=2) + "\n" for name, build in BOARDS.items()}


def main(argv: list[str]) -> int:
    stale = []
    for name, text in render().items():
        path = OUT / name
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)}; run python deploy/grafana/build_dashboards.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
