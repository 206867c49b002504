"""The ingest handler: raw records from both input topics through the pure Ingestor onto cx.interactions.

Its per-contact state (order, numbering, context, recent event ids) goes to a compacted changelog, one record per
changed contact per batch, in the same Kafka transaction as the outputs and the input offsets; it is read back for
the partitions assigned. A restart therefore resumes exactly where the last committed batch left off: nothing
renumbered, no duplicate let through, the context (account id, ...) of live contacts kept."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from confluent_kafka import Message

from cxpulse_core.changelog import encode_state
from cxpulse_core.dlq import Reject
from cxpulse_core.ids import now_ms
from cxpulse_core.loop import Incoming, Output, Result
from cxpulse_core.memory import MemoryRelease, compacted
from cxpulse_core.metrics import child
from cxpulse_core.records import RawContactEvent
from cxpulse_core.serde import Serde, SerdeError

from .ingestor import Ingestor, Rejection
from .metrics import EVENTS_OUT, CounterExport

AVRO_MAGIC = (b"\xc3\x01", b"\x00")  # single-object encoding, Confluent framing
log = logging.getLogger(__name__)
# partitions -> (partition, contact id, changelog value or None) for every record of their changelog partitions
Restore = Callable[[list[int]], Iterable[tuple[int, str, dict[str, Any] | None]]]


class IngestHandler:
    def __init__(self, ingestor: Ingestor, sources: dict[str, str], output_topic: str, serde: Serde,
                 service: str = "ingest", state_topic: str | None = None, restore: Restore | None = None) -> None:
        self.ingestor = ingestor
        self.sources = sources  # input topic -> "cxpulse" | "contact-lens"
        self.output_topic = output_topic
        self.serde = serde
        self.service = service
        self.export = CounterExport(service)
        self.state_topic = state_topic  # None: state in memory only (unit tests)
        self.restore = restore
        self.partition_of: dict[str, int] = {}  # contact id -> the partition its events (and changelog) are on
        self._unsent: list[Output] = []  # tombstones of an all-rejected batch, sent with the next one
        self.memory = MemoryRelease()

    # -- state follows partition ownership -------------------------------------------------------------------
    def on_assign(self, partitions: list[int]) -> None:
        if self.restore is None:
            return
        count = 0
        for partition, contact_id, value in self.restore(partitions):
            count += 1
            self.ingestor.load(contact_id, value)
            if value is None:
                self.partition_of.pop(contact_id, None)
            else:
                self.partition_of[contact_id] = partition
        self.ingestor.restored()
        log.info("contact state restored", extra={"partitions": partitions, "records": count,
                                                  "contacts": len(self.ingestor.order)})

    def _compact(self) -> None:
        self.ingestor.compact()
        self.partition_of = compacted(self.partition_of)

    def on_revoke(self, partitions: list[int]) -> None:
        gone = [c for c, p in self.partition_of.items() if p in partitions]
        self.ingestor.order.forget(gone)
        self._unsent = [o for o in self._unsent if o.partition not in partitions]
        for contact_id in gone:
            del self.partition_of[contact_id]

    # -- processing ----------------------------------------------------------------------------------------------
    def handle(self, batch: Sequence[Incoming]) -> list[Result]:
        now = now_ms()
        results: list[Result] = []
        state: dict[str, tuple[int, dict[str, Any] | None]] = {}
        for incoming in batch:
            results.append(self._one(incoming, now))
            self._collect_changes(state, incoming.message.partition())
        self.memory.note(self.ingestor.expire(now), self._compact)
        self._collect_changes(state, None)  # tombstones of contacts past their TTL
        self.export.export(self.ingestor.counters)
        if self.state_topic is not None:
            self._attach_state(results, state)
        return results

    def _collect_changes(self, state: dict[str, tuple[int, dict[str, Any] | None]], partition: int | None) -> None:
        for contact_id, value in self.ingestor.changes().items():
            if value is not None and partition is not None:  # changed by an event of this partition
                state[contact_id] = (partition, value)
                continue
            # Forgotten (ended, idle, evicted): its tombstone goes where its state was written.
            known = state[contact_id][0] if contact_id in state else self.partition_of.get(contact_id)
            if known is not None:
                state[contact_id] = (known, None)

    def _attach_state(self, results: list[Result], state: dict[str, tuple[int, dict[str, Any] | None]]) -> None:
        """One changelog record per changed contact, on the partition of its input, in this batch's transaction
        (attached to the last result that has outputs: the loop writes every output of a batch together)."""
        records = self._unsent
        for contact_id, (partition, value) in state.items():
            if value is None:
                self.partition_of.pop(contact_id, None)
            else:
                self.partition_of[contact_id] = partition
            records.append(Output(self.state_topic, contact_id, "", encode_state(value), partition=partition))
        carrier = next((r for r in reversed(results) if isinstance(r, list)), None)
        if carrier is None:
            self._unsent = records  # only rejections in this batch: those changed no contact, only TTLs did
            return
        carrier.extend(records)
        self._unsent = []

    def deadletter_value(self, message: Message) -> bytes:
        """Dead letters keep the record with PII redacted: the dead-letter topic is read by people and must not
        become the one place where raw card numbers survive. Bytes that are not UTF-8 are kept as they are
        (surrogateescape), so everything but the PII stays byte for byte."""
        raw = message.value() or b""
        text = raw.decode("utf-8", "surrogateescape")
        redacted, counts = self.ingestor.redactor.redact(text)
        return redacted.encode("utf-8", "surrogateescape") if counts else raw

    def _one(self, incoming: Incoming, now: int) -> Result:
        try:
            return self._checked(incoming, now)
        except Exception as exc:  # noqa: BLE001 - a bug must cost one record (dead-lettered), not the stream
            # Where, not what: the exception's message may quote the offending value (PII).
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            log.error("ingest failed on a record", extra={"topic": incoming.message.topic(),
                                                           "offset": incoming.message.offset(),
                                                           "error_class": type(exc).__name__,
                                                           "at": f"{frame.filename}:{frame.lineno}"})
            return Reject("internal_error", type(exc).__name__, type(exc).__name__)

    def _checked(self, incoming: Incoming, now: int) -> Result:
        message = incoming.message
        source = self.sources[message.topic()]
        raw = message.value() or b""
        limit = self.ingestor.settings.max_bytes
        if len(raw) > limit:  # one limit for every input path, before any decoding (JSON or Avro)
            self.ingestor.counters.rejected["oversized"] = self.ingestor.counters.rejected.get("oversized", 0) + 1
            return Reject("oversized", f"{len(raw)} bytes, limit {limit}")
        if source == "cxpulse" and raw.startswith(AVRO_MAGIC):
            try:  # our raw contract may also arrive as Avro
                decoded = self.serde.decode(raw, message.topic())
                match decoded.typed:
                    case RawContactEvent():
                        raw = decoded.value  # the contract checks it as it checks JSON (values, not only types)
                    case other:
                        return Reject("unexpected_schema", f"{other.SCHEMA} is not a raw contact event")
            except SerdeError as exc:
                return Reject("decode_error", str(exc), "SerdeError")
        result = self.ingestor.process(raw, source, message.timestamp()[1] or now, now)
        if result is None:
            return []  # a duplicate, counted in cxpulse_ingest_duplicates_total
        if isinstance(result, Rejection):
            where = f"{result.field}: " if result.field else ""
            return Reject(result.reason, where + result.detail)
        outputs = []
        for record in result:
            child(EVENTS_OUT, self.service, type(record).__name__).inc()
            outputs.append(Output(self.output_topic, record.contact_id, record.SCHEMA, record.to_dict()))
        return outputs
