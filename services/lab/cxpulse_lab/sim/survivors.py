"""Which allocations of a wave of never-ending contacts are still alive after their TTL, per service (issue 12's
probe; not part of `make bench`). The ttl benchmark's traffic (bench_ttl: warm accounts, a wave, a trickle), six
service processes on a real broker, each with tracemalloc restarted right after the baseline and dumped after the
TTL and the memory release. Every block still alive is a page of the wave's heap that cannot go back to the OS.

    python -m cxpulse_lab.sim.survivors --contacts 10000 --ttl-s 30 --out out/survivors
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import time
from pathlib import Path

from cxpulse_core.settings import KafkaSettings, RuntimeSettings
from cxpulse_core.testing.kafka import unique_name
from cxpulse_core.testing.receivers import WebhookReceiver
from cxpulse_core.topics import RAW_EVENTS, create_topics, load_topics

from . import bench_ttl as ttl
from .pipeline import Pipeline, isolated_env, webhook_routes_file

HOOK = Path(__file__).parent / "tracehook"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    ap.add_argument("--contacts", type=int, default=10_000)
    ap.add_argument("--ttl-s", type=float, default=30.0)
    ap.add_argument("--out", type=Path, default=Path("out/survivors"))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    kafka = KafkaSettings(bootstrap_servers=args.bootstrap)
    runtime = RuntimeSettings(topic_prefix=unique_name("survivors") + ".", http_port=0)
    create_topics(kafka, load_topics(), runtime.topic_prefix)
    work = Path(tempfile.mkdtemp(prefix="cxpulse-survivors-"))
    webhook = WebhookReceiver(ttl.SECRET).start()
    env = isolated_env(runtime.topic_prefix, work) | ttl.ttl_env(args.ttl_s) | {
        "CXPULSE_WEBHOOK_SECRET": ttl.SECRET, "CXPULSE_LOG_LEVEL": "WARNING",
        "NOTIFICATION_ROUTES_FILE": str(webhook_routes_file(work, webhook.port)),
        "CXPULSE_TRACE_DIR": str(args.out.resolve()), "PYTHONPATH": str(HOOK)}
    pipeline = Pipeline(kafka.bootstrap_servers, work / "logs", runtime.topic_prefix, base_port=0, env=env)
    producer = ttl.Producer(kafka, runtime.topic(RAW_EVENTS))

    def signal_all(offset: int) -> None:
        for service in pipeline.running:
            os.kill(service.pid, signal.SIGRTMIN + offset)

    try:
        pipeline.start()
        pipeline.wait_ready(240)
        now = int(time.time() * 1000)
        for i in range(ttl.ACCOUNTS):
            producer.send(ttl.contact_events(f"warm-{i}", f"acct-{i}", ttl.TEXTS[i % 3], now + i, end=True))
        producer.flush()
        ttl._wait_scored(pipeline, runtime, ttl.ACCOUNTS, 600)
        with ttl.Trickle(producer):
            time.sleep(30)
        print("RSS MB baseline", ttl._rss(pipeline), flush=True)
        signal_all(0)
        wave = ttl._wave(pipeline, runtime, producer, 1, args.contacts, args.ttl_s, ttl.ACCOUNTS)
        print("RSS MB peak", wave["peak"], "\nRSS MB after the TTL", wave["after"], flush=True)
        signal_all(1)
        time.sleep(15)  # each process writes its dump from its main thread, between batches
    finally:
        pipeline.stop()
        webhook.stop()
    for dump in sorted(args.out.glob("*.txt")):
        print(dump.name, dump.read_text().splitlines()[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
