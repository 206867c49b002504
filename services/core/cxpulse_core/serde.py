"""Avro on the wire: Confluent Schema Registry framing where a registry is configured, else Avro
single-object encoding (marker C3 01, 8-byte CRC-64-AVRO fingerprint, body). Either way the reader finds
the writer's schema and resolves it against the schema shipped in `schemas/` under the same name.

Typed records (cxpulse_core.records): `Decoded.typed` is the decoded value as its record class, for handlers that
match on types; `encode_record` writes one. Bytes are the same as for the record's dict."""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from .records import RECORDS, Record
from .registry import avro_schema, is_not_found, registry_client, subject_name
from .schemas import SchemaSet, _without_logical_types, shipped_schemas
from .settings import SchemaRegistrySettings

SINGLE_OBJECT_MARKER = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"


class SerdeError(ValueError):
    """Bytes that cannot be decoded (or a record that cannot be encoded) with the known schemas."""


@dataclass(frozen=True)
class Decoded:
    schema: str  # full record name of the writer's schema
    value: dict[str, Any]

    @cached_property
    def typed(self) -> Record:
        """The value as its typed record (converted on first use). SerdeError for a record that schemas/ does not
        define (a writer schema only the registry knows), or whose dict does not fit its class."""
        cls = RECORDS.get(self.schema)
        if cls is None:
            raise SerdeError(f"{self.schema} is not a record of schemas/ (no typed record for it)")
        try:
            return cls.from_dict(self.value)
        except (KeyError, TypeError, ValueError) as exc:
            raise SerdeError(f"{self.schema} value does not fit its record: {exc.__class__.__name__}: {exc}") from exc


class Serde(Protocol):
    def encode(self, schema: str, value: dict[str, Any], topic: str = "") -> bytes: ...
    def decode(self, data: bytes, topic: str = "") -> Decoded: ...


def _write(parsed: Any, value: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    try:
        schemaless_writer(out, parsed, value)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise SerdeError(f"record does not match {parsed.get('name')}: {exc}") from exc
    return out.getvalue()


def _read(body: io.BytesIO, writer: Any, reader: Any) -> dict[str, Any]:
    try:
        return schemaless_reader(body, writer, reader)
    except (EOFError, ValueError, TypeError, KeyError, IndexError, UnicodeDecodeError) as exc:
        raise SerdeError(f"corrupt Avro body: {exc.__class__.__name__}: {exc}") from exc


class SingleObjectSerde:
    def __init__(self, schemas: SchemaSet | None = None) -> None:
        self.schemas = schemas or shipped_schemas()

    def encode(self, schema: str, value: dict[str, Any], topic: str = "") -> bytes:
        record = self.schemas[schema]
        return SINGLE_OBJECT_MARKER + record.fingerprint + _write(record.parsed, value)

    def decode(self, data: bytes, topic: str = "") -> Decoded:
        if len(data) < 10 or data[:2] != SINGLE_OBJECT_MARKER:
            raise SerdeError("not Avro single-object encoded (missing C3 01 marker)")
        writer = self.schemas.by_fingerprint.get(data[2:10])
        if writer is None:
            raise SerdeError(f"unknown writer schema fingerprint {data[2:10].hex()}")
        reader = self.schemas.by_name.get(writer.name, writer)
        return Decoded(writer.name, _read(io.BytesIO(data[10:]), writer.parsed, reader.parsed))


class RegistryUnavailableError(RuntimeError):
    """The registry did not answer (or refused us): not the record's fault, so it is not dead-lettered; the
    service stops and its uncommitted input is read again after a restart."""


class ConfluentSerde:
    """Confluent wire format (magic 0, 4-byte schema id) through confluent-kafka's registry client.

    Subjects: `<topic>-value` where a topic carries one record type, `<topic>-<record>` on the two that carry
    several (cxpulse_core.registry). With auto-registration off, a producer only looks its schema up. Reads also
    accept single-object encoded records, so topics written before a registry was configured stay readable."""

    def __init__(self, settings: SchemaRegistrySettings, schemas: SchemaSet | None = None) -> None:
        # new_client gives the in-memory registry for mock:// URLs (unit tests) and the HTTP client otherwise.
        self.client = registry_client(settings.client_config())
        self.url = settings.url
        self.auto_register = settings.auto_register
        self.schemas = schemas or shipped_schemas()
        self.single_object = SingleObjectSerde(self.schemas)
        self._ids: dict[tuple[str, str], int] = {}
        self._writers: dict[int, tuple[str, Any]] = {}

    def schema_id(self, schema: str, topic: str) -> int:
        subject = subject_name(topic, schema)
        text = json.dumps(self.schemas.expanded(schema))
        try:
            if self.auto_register:
                return self.client.register_schema(subject, avro_schema(text))
            return self.client.lookup_schema(subject, avro_schema(text)).schema_id
        except Exception as exc:
            if is_not_found(exc):
                raise SerdeError(f"{schema} is not registered under subject {subject} at {self.url} (auto-registration "
                                 "is off: run `cxpulse schemas register`)") from exc
            raise RegistryUnavailableError(f"registering {schema} under {subject} at {self.url}: {exc}") from exc

    def encode(self, schema: str, value: dict[str, Any], topic: str = "") -> bytes:
        record = self.schemas[schema]
        schema_id = self._ids.get((topic, schema))
        if schema_id is None:
            schema_id = self._ids[(topic, schema)] = self.schema_id(schema, topic)
        return CONFLUENT_MAGIC + struct.pack(">I", schema_id) + _write(record.parsed, value)

    def decode(self, data: bytes, topic: str = "") -> Decoded:
        if data[:2] == SINGLE_OBJECT_MARKER:
            return self.single_object.decode(data, topic)
        if len(data) < 5 or data[:1] != CONFLUENT_MAGIC:
            raise SerdeError("neither Confluent-framed Avro (magic byte 0) nor single-object encoded (C3 01)")
        (schema_id,) = struct.unpack(">I", data[1:5])
        if schema_id not in self._writers:
            try:
                registered = self.client.get_schema(schema_id)
            except Exception as exc:
                if is_not_found(exc) or self.url is None or self.url.startswith("mock://"):
                    raise SerdeError(f"unknown schema id {schema_id}: not in the registry at {self.url}") from exc
                raise RegistryUnavailableError(f"fetching schema id {schema_id} from {self.url}: {exc}") from exc
            try:
                writer = parse_schema(_without_logical_types(json.loads(registered.schema_str)), named_schemas={})
            except Exception as exc:
                raise SerdeError(f"schema id {schema_id} is not a usable Avro record schema: {exc}") from exc
            self._writers[schema_id] = (writer["name"], writer)
        name, writer = self._writers[schema_id]
        reader = self.schemas.by_name.get(name)
        return Decoded(name, _read(io.BytesIO(data[5:]), writer, reader.parsed if reader else writer))


def encode_record(serde: Serde, record: Record, topic: str = "") -> bytes:
    """A typed record on the wire: the same bytes as serde.encode(record.SCHEMA, record.to_dict(), topic)."""
    return serde.encode(record.SCHEMA, record.to_dict(), topic)


def make_serde(settings: SchemaRegistrySettings | None = None) -> Serde:
    settings = settings or SchemaRegistrySettings()
    return ConfluentSerde(settings) if settings.url else SingleObjectSerde()
