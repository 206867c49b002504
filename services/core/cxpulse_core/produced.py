"""`produced_time`, stamped in one place for every runtime (core's StreamLoop and the faust agents): the moment an
output is handed to the producer, and with it the pipeline latency (produced_time - origin_time) of that output."""

from __future__ import annotations

from typing import Any

from . import metrics
from .ids import now_ms


def stamp(record: dict[str, Any], service: str, topic: str) -> None:
    """Sets `produced_time` to now where the record has that field, and observes cxpulse_pipeline_latency_seconds
    for it when the record carries an `origin_time`."""
    if "produced_time" not in record:
        return
    now = record["produced_time"] = now_ms()
    if record.get("origin_time"):
        metrics.child(metrics.PIPELINE_LATENCY, service, topic).observe(max(0, now - record["origin_time"]) / 1000)
