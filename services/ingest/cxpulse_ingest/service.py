"""The ingest handler: raw records from both input topics through the pure Ingestor onto cx.interactions."""

from __future__ import annotations

from collections.abc import Sequence

from cxpulse_core.dlq import Reject
from cxpulse_core.ids import now_ms
from cxpulse_core.loop import Incoming, Output, Result
from cxpulse_core.metrics import child
from cxpulse_core.serde import Serde, SerdeError

from .ingestor import Ingestor, Rejection
from .metrics import EVENTS_OUT, CounterExport

AVRO_MAGIC = (b"\xc3\x01", b"\x00")  # single-object encoding, Confluent framing


class IngestHandler:
    def __init__(self, ingestor: Ingestor, sources: dict[str, str], output_topic: str, serde: Serde,
                 service: str = "ingest") -> None:
        self.ingestor = ingestor
        self.sources = sources  # input topic -> "cxpulse" | "contact-lens"
        self.output_topic = output_topic
        self.serde = serde
        self.service = service
        self.export = CounterExport(service)

    def handle(self, batch: Sequence[Incoming]) -> list[Result]:
        now = now_ms()
        results = [self._one(incoming, now) for incoming in batch]
        self.export.export(self.ingestor.counters)
        return results

    def _one(self, incoming: Incoming, now: int) -> Result:
        message = incoming.message
        source = self.sources[message.topic()]
        raw = message.value() or b""
        if source == "cxpulse" and raw.startswith(AVRO_MAGIC):
            try:  # our raw contract may also arrive as Avro
                raw = self.serde.decode(raw, message.topic()).value
            except SerdeError as exc:
                return Reject("decode_error", str(exc), "SerdeError")
        result = self.ingestor.process(raw, source, message.timestamp()[1] or now, now)
        if result is None:
            return []  # a duplicate, counted in cxpulse_ingest_duplicates_total
        if isinstance(result, Rejection):
            where = f"{result.field}: " if result.field else ""
            return Reject(result.reason, where + result.detail)
        outputs = []
        for out in result:
            child(EVENTS_OUT, self.service, out.schema.rsplit(".", 1)[-1]).inc()
            outputs.append(Output(self.output_topic, out.key, out.schema, out.value))
        return outputs
