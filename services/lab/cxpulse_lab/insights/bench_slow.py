"""Slow dashboards cannot take insights down (issue 13): a real insights process fed scored utterances while
`clients` connections open the SSE stream (with credentials) and never read from it. Reports the process's RSS
over time and the latency of /api/* requests made meanwhile (median and max of every probe), and how many event
streams insights dropped for falling behind (cxpulse_insights_sse_dropped_total).

    cxpulse bench --only insights_slow       # part of make bench; or: python -m cxpulse_lab.insights.bench_slow

Target: RSS below 200 MB and every /api/* answer within 1 s with 500 such clients."""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from cxpulse_core.settings import KafkaSettings
from cxpulse_core.testing.broker import test_broker
from cxpulse_core.testing.kafka import unique_name
from cxpulse_core.testing.net import free_port
from cxpulse_core.testing.process import ServiceProcess
from cxpulse_core.topics import create_topics, load_topics

from .bench import Traffic, _rss_mb

API = ("/api/contacts/active", "/api/alerts", "/api/agents", "/api/quality", "/api/journey")


def _open_and_never_read(port: int, token: str, count: int) -> list[socket.socket]:
    request = (f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode()
    conns = []
    for _ in range(count):
        conn = socket.create_connection(("127.0.0.1", port), timeout=10)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: its data piles up server-side
        conn.sendall(request)
        conns.append(conn)
    return conns


def _probe(base: str, token: str) -> float:
    started = time.perf_counter()
    for path in API:
        request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            reply.read()
    return (time.perf_counter() - started) / len(API)


def run(kafka: KafkaSettings | None = None, clients: int = 500, rate: float = 40.0, seconds: float = 60.0
        ) -> dict[str, Any]:
    if kafka is None:
        if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            return run(KafkaSettings(), clients, rate, seconds)
        with test_broker() as bootstrap:
            return run(KafkaSettings(bootstrap_servers=bootstrap), clients, rate, seconds)
    prefix = unique_name("bench-insights-slow") + "."
    create_topics(kafka, load_topics(), prefix)
    port, ops_port = free_port(), free_port()
    token = secrets.token_urlsafe(24)
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers, "CXPULSE_TOPIC_PREFIX": prefix,
           "INSIGHTS_WEB_HOST": "127.0.0.1", "INSIGHTS_WEB_PORT": str(port), "CXPULSE_LOG_LEVEL": "WARNING",
           "INSIGHTS_AUTH_TOKEN": token}
    base = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="cxpulse-bench-insights-slow-")) / "insights.log"
    traffic = Traffic(kafka, prefix)
    with ServiceProcess("cxpulse_insights", env, log, port=ops_port) as service:
        service.start()
        pid = service.proc.pid
        idle_rss = _rss_mb(pid)
        feeder = threading.Thread(target=traffic.run, args=(rate,), daemon=True)
        feeder.start()
        conns: list[socket.socket] = []
        try:
            conns = _open_and_never_read(port, token, clients)
            latencies, rss = [], [_rss_mb(pid)]
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                latencies.append(_probe(base, token))
                rss.append(_rss_mb(pid))
                time.sleep(1.0)
            with urllib.request.urlopen(f"http://127.0.0.1:{ops_port}/metrics", timeout=10) as reply:
                metrics = reply.read().decode()
            dropped = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                          if line.startswith("cxpulse_insights_sse_dropped_total{"))
        finally:
            traffic.stop.set()
            feeder.join(30)
            for conn in conns:
                conn.close()
    return {"slow_sse_clients": clients, "utterances_per_s": rate, "seconds": seconds, "utterances_sent": traffic.n,
            "rss_mb": {"idle": idle_rss, "max": max(rss), "last": rss[-1]},
            "api_latency_s": {"median": round(statistics.median(latencies), 3), "max": round(max(latencies), 3),
                              "probes": len(latencies)},
            "sse_streams_dropped": dropped,
            "meets_target": max(rss) < 200 and max(latencies) < 1.0}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
