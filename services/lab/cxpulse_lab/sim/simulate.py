"""`cxpulse simulate`: generate traffic (scenario.py) and produce it to Kafka, paced in real time.

--rate and --duration are in simulation time; --speed plays it faster (a 60 s run at --speed 2 takes 30 s
and produces 2 x rate utterances per wall-clock second)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from confluent_kafka import KafkaError

from cxpulse_core.kafka import make_producer
from cxpulse_core.settings import KafkaSettings, RuntimeSettings

from .events import FORMATS, SimEvent
from .formats import render
from .scenario import SCRIPTS, generate


def summarize(events: Iterable[SimEvent]) -> dict[str, Any]:
    events = list(events)
    by_format = Counter(e.format for e in events)
    contacts = {e.contact_id: e.format for e in events}
    return {"contacts": len(contacts), "utterances": sum(e.type == "utterance" for e in events),
            "events": len(events), "events_by_format": {f: by_format.get(f, 0) for f in FORMATS},
            "contacts_by_format": {f: sum(v == f for v in contacts.values()) for f in FORMATS},
            "sim_seconds": events[-1].at_s if events else 0.0}


def produce_events(events: list[SimEvent], kafka: KafkaSettings, runtime: RuntimeSettings, speed: float = 1.0,
                   realtime: bool = True, *, producer: Any = None, base_ms: int | None = None) -> dict[str, Any]:
    """Produce every event to its raw topic keyed by contact id; with `realtime`, each at start + at_s / speed.
    Returns summarize() plus produced / failed / unacknowledged / wall_seconds. `producer` is for tests."""
    if speed <= 0:
        raise ValueError("speed must be positive")
    producer = producer if producer is not None else make_producer(kafka)
    failures: list[str] = []

    def delivered(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(str(error))

    base_ms = time.time_ns() // 1_000_000 if base_ms is None else base_ms
    started = time.monotonic()
    for event in events:
        if realtime:
            delay = started + event.at_s / speed - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        topic, key, value = render(event, base_ms, speed)
        while True:
            try:
                producer.produce(runtime.topic(topic), value, key, on_delivery=delivered)
                break
            except BufferError:  # local queue full: let deliveries drain, then retry
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(30)
    return summarize(events) | {"produced": len(events), "failed": len(failures), "unacknowledged": remaining,
                                "errors": failures[:3], "wall_seconds": round(time.monotonic() - started, 3)}


def dry_run(events: list[SimEvent], runtime: RuntimeSettings, speed: float, out: Any = None) -> None:
    out = out or sys.stdout
    base_ms = time.time_ns() // 1_000_000
    for event in events:
        topic, key, value = render(event, base_ms, speed)
        envelope = {"at_s": event.at_s, "topic": runtime.topic(topic), "key": key.decode(), "value": json.loads(value)}
        out.write(json.dumps(envelope) + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cxpulse simulate", description=__doc__)
    parser.add_argument("--rate", type=float, default=20.0, help="utterances per second of simulation time")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of simulation time")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--contact-lens-share", type=float, default=0.25,
                        help="share of contacts sent as Amazon Connect Contact Lens events")
    parser.add_argument("--speed", type=float, default=1.0, help="time compression: 2 plays twice as fast")
    parser.add_argument("--script", choices=[s for s in SCRIPTS if s], default=None,
                        help="e2e: only the scripted contacts; none: no scripted contacts (default: both)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print {at_s, topic, key, value} JSON lines to stdout instead of producing")
    parser.add_argument("--no-realtime", action="store_true", help="produce as fast as possible")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.speed <= 0:
        print("--speed must be positive", file=sys.stderr)
        return 2
    try:
        events = generate(args.seed, args.rate, args.duration, args.contact_lens_share, args.script)
    except ValueError as exc:
        print(f"cxpulse simulate: {exc}", file=sys.stderr)
        return 2
    runtime = RuntimeSettings()
    if args.dry_run:
        dry_run(events, runtime, args.speed)
        result = summarize(events)
    else:
        result = produce_events(events, KafkaSettings(), runtime, args.speed, realtime=not args.no_realtime)
    formats = ", ".join(f"{n} {f}" for f, n in result["events_by_format"].items())
    line = f"simulated {result['contacts']} contacts, {result['utterances']} utterances, {result['events']} events " \
           f"({formats}) over {result['sim_seconds']:.1f} s of sim time"
    if not args.dry_run:
        line += f"; sent {result['produced']} in {result['wall_seconds']:.1f} s, {result['failed']} failed, " \
                f"{result['unacknowledged']} unacknowledged"
    print(line, file=sys.stderr)
    return 1 if not args.dry_run and (result["failed"] or result["unacknowledged"]) else 0
