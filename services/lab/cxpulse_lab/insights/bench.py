"""The dashboard's cost: the insights process (a real `python -m cxpulse_insights` on a real broker) fed at
`rate` scored utterances per second (with rolling updates, summaries, alerts and escalations as upstream
writes them) while `clients` dashboards hold the SSE stream open; CPU of that process (utime+stime from
/proc, as a fraction of one core) over several windows after a warm-up, its RSS, and the first page load's bytes.

    cxpulse bench --only insights            # part of make bench; or: python -m cxpulse_lab.insights.bench

Uses KAFKA_BOOTSTRAP_SERVERS when set, else starts a throwaway local broker. Fresh topics each run."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
from confluent_kafka import Producer

from cxpulse_core import topics
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.settings import KafkaSettings
from cxpulse_core.testing.broker import test_broker
from cxpulse_core.testing.kafka import unique_name
from cxpulse_core.testing.net import free_port, wait_until
from cxpulse_core.testing.process import ServiceProcess
from cxpulse_core.topics import create_topics, load_topics

SENT = "io.cxpulse.sentiment."
TICK = os.sysconf("SC_CLK_TCK")
TURNS_PER_CONTACT = 12
PAGE = ("/", "/static/app.js", "/static/style.css")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _speaker(score: float, turns: int) -> dict[str, Any]:
    return {"turns": turns, "rolling_score": score, "mean_score": score, "quarter_means": [score] * 4,
            "trend": 0.0, "overall_score": score, "overall_score5": score * 5, "negative_turns": int(score < -0.3),
            "consecutive_negative": int(score < -0.3), "peak_anger": max(0.0, -score), "peak_frustration": 0.1}


class Traffic:
    """Contacts of TURNS_PER_CONTACT turns, about 20 at a time, across queues, agents and channels."""

    def __init__(self, kafka: KafkaSettings, prefix: str) -> None:
        self.producer = Producer(kafka.client_config() | {"linger.ms": 5})
        self.prefix, self.serde, self.n = prefix, SingleObjectSerde(), 0
        self.stop = threading.Event()

    def _send(self, topic: str, schema: str, value: dict[str, Any]) -> None:
        name = self.prefix + topic
        self.producer.produce(name, self.serde.encode(schema, value, name), value["contact_id"].encode())

    def utterance(self) -> None:
        n = self.n
        self.n += 1
        # 20 contacts at a time, their turns interleaved: slot n % 20 speaks every 20th utterance.
        slot, step = n % 20, n // 20
        contact, turn = step // TURNS_PER_CONTACT, step % TURNS_PER_CONTACT + 1
        cid = f"c-{contact}-{slot}"
        t = int(time.time() * 1000)
        ctx = {"contact_id": cid, "account_id": f"acct-{contact % 300}", "customer_id": None,
               "agent_id": f"agent-{contact % 25}", "queue": ("billing", "tech", "sales")[contact % 3],
               "channel": ("voice", "chat")[contact % 2], "journey_stage": "billing", "event_time": t,
               "origin_time": t, "produced_time": t}
        speaker = "customer" if turn % 2 == 0 else "agent"
        score = round(((n * 37) % 200) / 100 - 1, 2)
        label = "negative" if score < -0.3 else "positive" if score > 0.3 else "neutral"
        self._send(topics.UTTERANCE_SENTIMENT, SENT + "UtteranceSentiment", ctx | {
            "event_id": f"s-{n}", "utterance_id": f"u-{turn}", "utterance_event_id": f"e-{n}", "turn": turn,
            "speaker": speaker, "text": "I was charged twice for [CARD] this month.", "label": label,
            "score": score, "score5": score * 5, "emotions": {"anger": max(0.0, -score), "gratitude": 0.1},
            "model_version": "bench"})
        if speaker == "customer":
            self._send(topics.CONTACT_SENTIMENT, SENT + "ContactSentimentUpdate", ctx | {
                "event_id": f"cs-{n}", "turn": turn, "speaker": speaker, "utterance_id": f"u-{turn}",
                "last_label": label, "last_score": score, "last_emotions": {"anger": max(0.0, -score)},
                "customer": _speaker(score, turn // 2), "agent": _speaker(0.3, turn // 2), "model_version": "bench"})
            if score < -0.8:
                self._send(topics.ALERTS, "io.cxpulse.routing.SupervisorAlert", ctx | {
                    "event_id": f"a-{n}", "alert_id": f"a-{n}", "rule": "anger_spike", "reason": "anger",
                    "evidence": [{"turn": turn, "utterance_id": f"u-{turn}", "score": score, "emotions": {}}],
                    "churn_probability": None, "severity": "critical", "team": "billing", "summary": "angry"})
        if turn == TURNS_PER_CONTACT:
            self._send(topics.CONTACT_SENTIMENT, SENT + "ContactSummary", ctx | {
                "event_id": f"sum-{n}", "started_time": t - 60_000, "ended_time": t, "status": "completed",
                "turns": turn, "customer": _speaker(score, turn // 2), "agent": _speaker(0.3, turn // 2),
                "overall_score": score, "overall_score5": score * 5, "trend": 0.0, "start_score": 0.0,
                "end_score": score, "model_version": "bench"})

    def run(self, rate: float) -> None:
        start = time.perf_counter()
        while not self.stop.is_set():
            due = int((time.perf_counter() - start) * rate)
            while self.n < due:
                self.utterance()
            self.producer.poll(0)
            time.sleep(0.01)
        self.producer.flush(30)


async def _clients(base: str, count: int, stop: threading.Event, tally: dict[str, int], token: str) -> None:
    async def one(session: aiohttp.ClientSession) -> None:
        async with session.get(base + "/api/events") as response:
            async for chunk in response.content.iter_any():
                tally["bytes"] += len(chunk)
                tally["events"] += chunk.count(b"\nevent: ") + chunk.startswith(b"event: ")
                if stop.is_set():
                    return

    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
        tasks = [asyncio.create_task(one(session)) for _ in range(count)]
        while not stop.is_set():
            await asyncio.sleep(0.2)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def first_load_bytes(base: str, token: str) -> dict[str, int]:
    import urllib.request

    sizes = {}
    for path in PAGE:
        request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            sizes[path] = len(response.read())
    return sizes | {"total": sum(sizes.values())}


SOAK = Path(__file__).resolve().parents[4] / "tests" / "browser" / "soak.mjs"


def page_soak(base: str, token: str, seconds: float, interval_s: float) -> dict[str, Any]:
    """A real Chromium page left open on the dashboard while the traffic goes on: its JS heap (after a forced
    GC), DOM nodes and listeners over time. Skipped, with the reason, without chromium or playwright-core."""
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(chromium).exists() or not (SOAK.parent / "node_modules" / "playwright-core").is_dir():
        return {"skipped": "needs chromium and playwright-core (make browser)"}
    env = os.environ | {"DASHBOARD_USER": "bench", "DASHBOARD_PASSWORD": token, "CHROMIUM_PATH": chromium}
    out = subprocess.run(["node", str(SOAK), base, str(seconds), str(interval_s)], env=env, capture_output=True,
                         text=True, timeout=seconds + 120, check=False)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    samples = [r for r in rows if "heap_mb" in r]
    errors = next((r["errors"] for r in rows if r.get("done")), [out.stderr[-500:]])
    return {"seconds": seconds, "samples": samples, "errors": errors,
            "heap_mb_first_last": [samples[0]["heap_mb"], samples[-1]["heap_mb"]] if samples else None,
            "heap_mb_max": max((s["heap_mb"] for s in samples), default=None),
            "nodes_first_last": [samples[0]["nodes"], samples[-1]["nodes"]] if samples else None}


def run(kafka: KafkaSettings | None = None, rate: float = 40.0, clients: int = 50, windows: int = 3,
        window_s: float = 20.0, warmup_s: float = 15.0, soak_s: float = 300.0) -> dict[str, Any]:
    if kafka is None:
        if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            return run(KafkaSettings(), rate, clients, windows, window_s, warmup_s, soak_s)
        with test_broker() as bootstrap:
            return run(KafkaSettings(bootstrap_servers=bootstrap), rate, clients, windows, window_s, warmup_s,
                       soak_s)
    prefix = unique_name("bench-insights") + "."
    create_topics(kafka, load_topics(), prefix)
    port = free_port()
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers, "CXPULSE_TOPIC_PREFIX": prefix,
           "INSIGHTS_WEB_HOST": "127.0.0.1", "INSIGHTS_WEB_PORT": str(port), "CXPULSE_LOG_LEVEL": "WARNING",
           "INSIGHTS_AUTH_TOKEN": (token := secrets.token_urlsafe(24)), "INSIGHTS_AUTH_USERS": f"bench:{token}"}
    base = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="cxpulse-bench-insights-")) / "insights.log"
    traffic = Traffic(kafka, prefix)
    stop_clients = threading.Event()
    tally = {"bytes": 0, "events": 0}
    with ServiceProcess("cxpulse_insights", env, log) as service:
        service.start()
        pid = service.proc.pid
        page = first_load_bytes(base, token)
        idle_rss = _rss_mb(pid)
        feeder = threading.Thread(target=traffic.run, args=(rate,), daemon=True)
        readers = threading.Thread(target=lambda: asyncio.run(_clients(base, clients, stop_clients, tally, token)),
                                   daemon=True)
        feeder.start()
        readers.start()
        try:
            wait_until(lambda: tally["events"] >= clients, "every SSE client got its snapshot", 60)
            time.sleep(warmup_s)
            shares, rss = [], [_rss_mb(pid)]
            for _ in range(windows):
                cpu0, t0, events0 = _cpu_s(pid), time.perf_counter(), tally["events"]
                time.sleep(window_s)
                shares.append((_cpu_s(pid) - cpu0) / (time.perf_counter() - t0))
                rss.append(_rss_mb(pid))
            events_per_s = (tally["events"] - events0) / window_s
            # Then one more dashboard, a real browser page, left open under the same traffic.
            stop_clients.set()
            soak = page_soak(base, token, soak_s, max(10.0, soak_s / 10)) if soak_s > 0 else {"skipped": "soak_s 0"}
            rss.append(_rss_mb(pid))
        finally:
            traffic.stop.set()
            stop_clients.set()
            feeder.join(30)
            readers.join(30)
    return {"utterances_per_s": rate, "sse_clients": clients, "utterances_sent": traffic.n,
            "cpu_core_fraction": {"median": round(statistics.median(shares), 3),
                                  "windows": [round(s, 3) for s in shares], "window_s": window_s},
            "sse_events_per_s_all_clients": round(events_per_s, 1), "sse_bytes_received": tally["bytes"],
            "rss_mb": {"idle": idle_rss, "per_window_then_after_soak": rss}, "first_load_bytes": page,
            "page_left_open": soak}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
