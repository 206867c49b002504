"""Ingest throughput through a real broker, with redaction on: events/s of the whole service (consume, validate,
redact, normalize, Avro-encode, produce, store offsets), median of several runs, beside the pure Ingestor's
rate measured in the same process (bench_domain)."""

from __future__ import annotations

import json
import statistics
import time

from cxpulse_core import topics
from cxpulse_core.settings import KafkaSettings, RuntimeSettings
from cxpulse_core.testing.bench import wait_for_size
from cxpulse_core.testing.kafka import produce, unique_name
from cxpulse_core.testing.services import start_loop
from cxpulse_core.topics import create_topics, load_topics
from cxpulse_ingest.app import build
from cxpulse_ingest.ingestor import Ingestor
from cxpulse_ingest.settings import IngestSettings

from . import bench_domain, bench_redact


def _expected_outputs(inputs: list[tuple[bytes, str]]) -> int:
    ingestor = Ingestor()
    total = 0
    for k, (raw, source) in enumerate(inputs):
        result = ingestor.process(raw, source, k, k)
        total += len(result) if isinstance(result, list) else 0
    return total


def _contact(raw: bytes) -> str:
    doc = json.loads(raw)
    return doc.get("contact_id") or doc["ContactId"]  # keyed by contact, as producers must, for per-contact order


def _once(kafka: KafkaSettings, inputs: list[tuple[bytes, str]], expected: int) -> dict[str, float]:
    runtime = RuntimeSettings(topic_prefix=unique_name("bench") + ".", http_port=0)
    create_topics(kafka, load_topics(), runtime.topic_prefix)
    by_source = {"cxpulse": runtime.topic(topics.RAW_EVENTS), "contact-lens": runtime.topic(topics.RAW_CONTACT_LENS)}
    for source, topic in by_source.items():
        produce(kafka, topic, [(_contact(raw), raw) for raw, s in inputs if s == source])
    config, handler = build(IngestSettings(group_id=unique_name("bench-ingest")), runtime, kafka)
    started = time.perf_counter()
    with start_loop(kafka, config, handler):
        first, last = wait_for_size(kafka, runtime.topic(topics.INTERACTIONS), expected)
    return {"total_s": last - started, "steady_s": last - first}


def run(kafka: KafkaSettings, n: int = 60_000, repeats: int = 3) -> dict[str, object]:
    inputs = bench_domain.make_inputs(n)
    expected = _expected_outputs(inputs)
    runs = [_once(kafka, inputs, expected) for _ in range(repeats)]
    steady = statistics.median(r["steady_s"] for r in runs)
    total = statistics.median(r["total_s"] for r in runs)
    domain = bench_domain.run(n)
    service_rate = n / steady
    return {"inputs": n, "outputs": expected, "runs": repeats,
            "service_events_per_s": round(service_rate),
            "service_events_per_s_incl_startup": round(n / total),
            "domain_events_per_s": domain["events_per_s"],
            "service_vs_domain": round(service_rate / domain["events_per_s"], 3),
            "redaction_worst_case": bench_redact.run()}


if __name__ == "__main__":
    print(json.dumps(run(KafkaSettings()), indent=2))
