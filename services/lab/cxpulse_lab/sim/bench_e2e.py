"""End-to-end benchmark: the whole pipeline (each service its own process) at fixed utterance rates, then rising
rates until it no longer keeps up. Latency per hop is produced_time - origin_time read back from the topics;
CPU and RSS per service from /proc, and the broker's CPU (the process listening on the bootstrap port). CPU per
utterance: CPU seconds of each process from the start of producing until the phase drained, over the utterances
produced (ms of CPU per utterance: the budget each service spends, comparable across rates)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from cxpulse_core.ids import now_ms
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.settings import KafkaSettings, RuntimeSettings
from cxpulse_core.testing.kafka import unique_name
from cxpulse_core.testing.receivers import WebhookReceiver
from cxpulse_core.topics import create_topics, load_topics

from .pipeline import Pipeline, isolated_env, webhook_routes_file
from .report import percentiles
from .scenario import generate
from .simulate import produce_events
from .watch import PipelineWatch

HOPS = ("sentiment", "escalation", "notification")
SECRET = "bench-webhook-secret"
CLOCK_TICKS = 100  # os.sysconf("SC_CLK_TCK") on Linux


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def listening_pid(port: int) -> int | None:
    """The process listening on 127.0.0.1/0.0.0.0:`port` on this host (the broker), from /proc; None if not visible
    (e.g. a broker in a VM or on another host)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(fields[9])
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                link = str(fd.readlink())
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(proc.name)
        except OSError:  # gone, or not ours to read
            continue
    return None


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _phase(pipeline: Pipeline, kafka: KafkaSettings, runtime: RuntimeSettings, rate: float, seconds: float,
           drain_s: float, broker_pid: int | None = None) -> dict[str, Any]:
    since = now_ms()
    watch = PipelineWatch(kafka, runtime, SingleObjectSerde(), since).start()
    events = generate(seed=int(rate) + 1000, rate=rate, duration_s=seconds, script="none")
    utterances = sum(e.type == "utterance" and e.payload.get("speaker") in ("customer", "agent") for e in events)
    pids = {s.name: s.pid for s in pipeline.running} | ({"broker": broker_pid} if broker_pid else {})
    cpu0 = {name: _cpu_s(pid) for name, pid in pids.items()}
    batches0 = _batches(pipeline)
    started = time.monotonic()
    produce_events(events, kafka, runtime)
    wall = time.monotonic() - started
    cpu = {s.name: round(100 * (_cpu_s(s.pid) - cpu0[s.name]) / wall, 1) for s in pipeline.running}
    broker_cpu = round(100 * (_cpu_s(broker_pid) - cpu0["broker"]) / wall, 1) if broker_pid else None
    rss = {s.name: round(_rss_mb(s.pid), 1) for s in pipeline.running}
    deadline = time.monotonic() + drain_s
    while time.monotonic() < deadline and watch.counts["UtteranceSentiment"] < utterances:
        time.sleep(0.2)
    time.sleep(2)
    cpu_ms = {name: round(1000 * (_cpu_s(pid) - cpu0[name]) / max(utterances, 1), 2) for name, pid in pids.items()}
    drained_s = time.monotonic() - started
    batches = {name: round((n - batches0[name]) / drained_s, 1) for name, n in _batches(pipeline).items()
               if name in batches0}
    watch.stop()
    pipeline.check_alive()
    scored = watch.counts["UtteranceSentiment"]
    return {"rate": rate, "utterances": utterances, "scored": scored, "wall_s": round(wall, 1),
            "latency": {hop: percentiles(watch.latencies.get(hop, [])) for hop in HOPS},
            "cpu_percent": cpu, "broker_cpu_percent": broker_cpu, "cpu_ms_per_utterance": cpu_ms, "rss_mb": rss,
            "batches_per_s": batches}


def _batches(pipeline: Pipeline) -> dict[str, float]:
    """Batches each shared-loop service has handled so far (cxpulse_batch_size_count; a transactional service's
    batch is one transaction); the faust services have no such count and are left out."""
    counts = {s.name: s.metric("cxpulse_batch_size_count", service=s.name) for s in pipeline.running}
    return {name: n for name, n in counts.items() if n is not None}


def _kept_up(phase: dict[str, Any]) -> bool:
    """Sustained = every utterance of the phase scored before its drain window ended, and p99 utterance ->
    escalation within 1 s (the sentiment hop where a phase produced no escalation)."""
    escalation = phase["latency"]["escalation"]
    latency = escalation if escalation.get("n") else phase["latency"]["sentiment"]
    return phase["scored"] >= phase["utterances"] and latency.get("p99", 1e9) <= 1000


def run(kafka: KafkaSettings, rates: tuple[float, ...] = (50, 100, 200), seconds: float = 20.0,
        ramp: tuple[float, ...] = (300, 400, 550, 750)) -> dict[str, Any]:
    runtime = RuntimeSettings(topic_prefix=unique_name("bench") + ".", http_port=0)
    create_topics(kafka, load_topics(), runtime.topic_prefix)
    work = Path(tempfile.mkdtemp(prefix="cxpulse-bench-"))
    webhook = WebhookReceiver(SECRET).start()
    routes = webhook_routes_file(work, webhook.port)
    env = isolated_env(runtime.topic_prefix, work) | {"CXPULSE_WEBHOOK_SECRET": SECRET, "CXPULSE_LOG_LEVEL": "WARNING",
                                                      "NOTIFICATION_ROUTES_FILE": str(routes),
                                                      "NOTIFICATION_RECIPIENT_RATE_PER_MIN": "100000",
                                                      "NOTIFICATION_RECIPIENT_BURST": "10000"}
    pipeline = Pipeline(kafka.bootstrap_servers, work / "logs", runtime.topic_prefix, base_port=0, env=env)
    phases, sustained = [], []
    broker_pid = listening_pid(int(kafka.bootstrap_servers.split(",")[0].rsplit(":", 1)[1]))
    try:
        pipeline.start()
        pipeline.wait_ready(180)
        _phase(pipeline, kafka, runtime, 20, 8, 30)  # warm-up: model sessions, faust tables, connections
        for rate in rates:
            phases.append(_phase(pipeline, kafka, runtime, rate, seconds, 60, broker_pid))
        for rate in ramp:
            phase = _phase(pipeline, kafka, runtime, rate, seconds, 20, broker_pid)
            sustained.append(phase)
            if not _kept_up(phase):
                break
    finally:
        pipeline.stop()
        webhook.stop()
    kept = [p["rate"] for p in phases + sustained if _kept_up(p)]
    return {
        "e2e_latency_ms": {str(int(p["rate"])): p["latency"] for p in phases},
        "phases": phases + sustained,
        "max_sustained_utterances_per_s": max(kept) if kept else None,
        # ms of CPU per utterance, per service and the broker, at each rate (the per-utterance budget)
        "cpu_ms_per_utterance": {str(int(p["rate"])): p["cpu_ms_per_utterance"] for p in phases + sustained},
        "broker_pid_found": broker_pid is not None,
    }
