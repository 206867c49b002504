"""Operator tools: create topics, produce JSON lines, tail a topic as JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from confluent_kafka import KafkaError

from .kafka import make_consumer, make_producer
from .serde import SerdeError, make_serde
from .settings import KafkaSettings, RuntimeSettings
from .topics import create_topics, load_topics


def topics_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cxpulse topics")
    parser.add_argument("action", choices=["create", "list"], nargs="?", default="create")
    parser.add_argument("--replication-factor", type=int, default=None)
    args = parser.parse_args(argv)
    specs = load_topics()
    if args.action == "list":
        for spec in specs:
            print(f"{spec.name:<32} key={spec.key:<12} partitions={spec.partitions} {spec.cleanup_policy:<7} "
                  f"{', '.join(spec.value_schemas)}")
        return 0
    prefix = RuntimeSettings().topic_prefix
    for name, outcome in sorted(create_topics(KafkaSettings(), specs, prefix, args.replication_factor).items()):
        print(f"{outcome:<8} {name}")
    return 0


def produce_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cxpulse produce", description="JSON lines from stdin to a topic. "
                                     "Without --schema the line is produced as JSON bytes; with it, as Avro.")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--schema", help="full Avro record name, e.g. io.cxpulse.raw.RawContactEvent")
    parser.add_argument("--key-field", default="contact_id", help="field whose value is the record key")
    args = parser.parse_args(argv)
    serde = make_serde() if args.schema else None
    producer = make_producer(KafkaSettings())
    failures: list[str] = []

    def delivered(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(str(error))

    count = 0
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            print(f"line {number}: not JSON: {exc}", file=sys.stderr)
            return 1
        key = str(record.get(args.key_field, "")) if isinstance(record, dict) else ""
        try:
            value = serde.encode(args.schema, record, args.topic) if serde else line.strip().encode()
        except SerdeError as exc:
            print(f"line {number}: {exc}", file=sys.stderr)
            return 1
        producer.produce(args.topic, value, key.encode(), on_delivery=delivered)
        producer.poll(0)
        count += 1
    remaining = producer.flush(30)
    if failures or remaining:
        print(f"{len(failures)} failed, {remaining} unacknowledged: {failures[:3]}", file=sys.stderr)
        return 1
    print(f"produced {count} records to {args.topic}", file=sys.stderr)
    return 0


def _decode(serde: Any, data: bytes | None, topic: str) -> tuple[str | None, Any]:
    if data is None:
        return None, None
    if data[:2] == b"\xc3\x01" or data[:1] == b"\x00":
        try:
            decoded = serde.decode(data, topic)
            return decoded.schema, decoded.value
        except SerdeError:
            pass
    try:
        return "json", json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "bytes", data.decode("utf-8", "backslashreplace")


def tail_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cxpulse tail")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--from-beginning", action="store_true")
    parser.add_argument("--max", type=int, default=0, help="stop after N records")
    parser.add_argument("--timeout", type=float, default=0, help="stop after S seconds without a record")
    parser.add_argument("--meta", action="store_true", help="wrap each value with key, partition, offset, headers")
    args = parser.parse_args(argv)
    consumer = make_consumer(KafkaSettings(), f"cxpulse-tail-{time.time_ns()}",
                             **{"auto.offset.reset": "earliest" if args.from_beginning else "latest",
                                "enable.auto.commit": False})
    consumer.subscribe([args.topic])
    serde = make_serde()
    seen, last = 0, time.monotonic()
    try:
        while not args.max or seen < args.max:
            message = consumer.poll(0.2)
            if message is None or message.error():
                if args.timeout and time.monotonic() - last > args.timeout:
                    break
                continue
            last = time.monotonic()
            schema, value = _decode(serde, message.value(), message.topic())
            if args.meta:
                value = {"topic": message.topic(), "partition": message.partition(), "offset": message.offset(),
                         "timestamp": message.timestamp()[1], "schema": schema,
                         "key": (message.key() or b"").decode("utf-8", "replace"),
                         "headers": {k: (v or b"").decode("utf-8", "replace") for k, v in message.headers() or []},
                         "value": value}
            print(json.dumps(value, default=str), flush=True)
            seen += 1
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
    return 0
