"""Every metric the shared stream loop exports, in one place. Names are prefixed `cxpulse_`; the `service`
label says which service; latencies are histograms in seconds, Prometheus's base unit (`*_seconds`). Services
list their own metrics in their own `metrics.py`, built with the helpers below so names and buckets stay uniform."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

# Seconds: millisecond steps up to multi-second stalls, with bounds at the SLOs of deploy/prometheus/alerts.yml
# (0.15 s utterance -> escalation, 0.3 s utterance -> sentiment), so their p99s are not interpolated across them.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
    return Counter(f"cxpulse_{name}", doc, ("service", *labels))


def latency_seconds(name: str, doc: str, labels: tuple[str, ...] = ()) -> Histogram:
    """A latency histogram `cxpulse_<name>_seconds`: observe seconds (time.perf_counter() differences, or
    epoch-millisecond differences / 1000)."""
    return Histogram(f"cxpulse_{name}_seconds", doc, ("service", *labels), buckets=LATENCY_BUCKETS)


MESSAGES_IN = counter("messages_in", "Records consumed.", ("topic",))
MESSAGES_OUT = counter("messages_out", "Records produced and acknowledged by the broker.", ("topic",))
DEADLETTERS = counter("deadletters", "Records sent to the dead-letter topic.", ("reason",))
PRODUCE_ERRORS = counter("produce_errors", "Records the broker did not acknowledge (fatal for the process).")
PROCESSING_LATENCY = latency_seconds("processing_latency", "Time to handle one consumed batch.")
PIPELINE_LATENCY = latency_seconds("pipeline_latency", "produced_time - origin_time of produced records.", ("topic",))
BATCH_SIZE = Histogram("cxpulse_batch_size", "Records per consumed batch.", ("service",),
                       buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024))
CONSUMER_LAG = Gauge("cxpulse_consumer_lag", "High watermark minus committed position.",
                     ("service", "topic", "partition", "consumer_group"))
DEADLETTER_FLOOD = Gauge("cxpulse_deadletter_flood", "1 while more than CXPULSE_DLQ_MAX_INVALID_RATIO of the "
                         "recent input was rejected (alert CxpulseDeadLetterFlood).", ("service",))
READY = Gauge("cxpulse_ready", "1 when partitions are assigned and the service processes input.", ("service",))

_process_service = [""]


def process_service(name: str | None = None) -> str:
    """The service this process runs (set once by configure_logging), for metrics recorded by shared code that
    is not told which service it serves (client callbacks, log filters)."""
    if name is not None:
        _process_service[0] = name
    return _process_service[0]


_children: dict[tuple[object, tuple[str, ...]], Any] = {}


def child(metric: Counter | Gauge | Histogram, *labels: str) -> Any:
    """metric.labels(*labels), memoized: labels() costs microseconds, too much per message on a hot path."""
    key = (metric, labels)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*labels)
    return found


def report_lag(consumer: Any, service: str, group_id: str) -> None:
    """Sets cxpulse_consumer_lag for every assigned partition: high watermark minus the consumer's position (the
    watermark cached from the last fetch, so this asks the broker nothing)."""
    for tp in consumer.position(consumer.assignment()):
        _, high = consumer.get_watermark_offsets(tp, cached=True)
        if tp.offset >= 0 and high >= 0:
            child(CONSUMER_LAG, service, tp.topic, str(tp.partition), group_id).set(max(0, high - tp.offset))
BROKER_REACHABLE = Gauge("cxpulse_broker_reachable", "1 while the Kafka cluster answers metadata requests.",
                         ("service",))
BROKER_ERRORS = counter("broker_errors", "Kafka connection and coordinator errors seen (retried, not fatal).",
                        ("kind",))
STATE_EXPIRED = counter("state_expired", "State entries dropped after their TTL (per-contact state, dedup windows).",
                        ("state",))
MEMORY_RELEASES = counter("memory_releases", "Times the maps expiry emptied were compacted and the heap trimmed.",
                          ("state",))
