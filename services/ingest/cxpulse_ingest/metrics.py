"""Metrics of the ingest service (besides the stream loop's cxpulse_messages_* and cxpulse_deadletters_*)."""

from __future__ import annotations

from cxpulse_core.metrics import counter

from .ingestor import IngestCounters

EVENTS_OUT = counter("ingest_events", "Normalized interaction events produced.", ("kind",))
REJECTED = counter("ingest_rejected", "Raw records rejected, by reason.", ("reason",))
REDACTIONS = counter("ingest_redactions", "PII placeholders inserted, by type.", ("type",))
DUPLICATES = counter("ingest_duplicates", "Events dropped as duplicates of an event id already seen.")
CONTACT_LENS_PARTIALS = counter("ingest_contactlens_partials",
                                "Contact Lens Utterance partials dropped in favour of their Transcript.")


class CounterExport:
    """Turns the ingestor's plain counters into Prometheus counters (by difference since the last export)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._last: dict[tuple[str, str], int] = {}

    def _inc(self, metric, key: str, value: int, *labels: str) -> None:
        previous = self._last.get((metric._name, key), 0)
        if value > previous:
            metric.labels(self.service, *labels).inc(value - previous)
            self._last[(metric._name, key)] = value

    def export(self, counters: IngestCounters) -> None:
        self._inc(DUPLICATES, "", counters.duplicates)
        self._inc(CONTACT_LENS_PARTIALS, "", counters.contactlens_utterance_partials)
        for reason, count in counters.rejected.items():
            self._inc(REJECTED, reason, count, reason)
        for kind, count in counters.redactions.items():
            self._inc(REDACTIONS, kind, count, kind)
