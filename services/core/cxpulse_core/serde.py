"""Avro on the wire: Confluent Schema Registry framing where a registry is configured, else Avro
single-object encoding (marker C3 01, 8-byte CRC-64-AVRO fingerprint, body). Either way the reader finds
the writer's schema and resolves it against the schema shipped in `schemas/` under the same name."""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass
from typing import Any, Protocol

from fastavro import parse_schema, schemaless_reader, schemaless_writer

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


class ConfluentSerde:
    """Confluent wire format (magic 0, 4-byte schema id) through confluent-kafka's registry client.

    Subjects follow TopicRecordNameStrategy (`<topic>-<record name>`) because some topics carry more than one
    record type (cx.interactions, cx.sentiment.contacts)."""

    def __init__(self, settings: SchemaRegistrySettings, schemas: SchemaSet | None = None) -> None:
        from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

        self._schema_type = Schema
        # new_client gives the in-memory registry for mock:// URLs (tests) and the HTTP client otherwise.
        self.client = SchemaRegistryClient.new_client(settings.client_config())
        self.schemas = schemas or shipped_schemas()
        self._ids: dict[tuple[str, str], int] = {}
        self._writers: dict[int, tuple[str, Any]] = {}

    def encode(self, schema: str, value: dict[str, Any], topic: str = "") -> bytes:
        record = self.schemas[schema]
        schema_id = self._ids.get((topic, schema))
        if schema_id is None:
            text = json.dumps(self.schemas.expanded(schema))
            schema_id = self.client.register_schema(f"{topic}-{schema}", self._schema_type(text, "AVRO"))
            self._ids[(topic, schema)] = schema_id
        return CONFLUENT_MAGIC + struct.pack(">I", schema_id) + _write(record.parsed, value)

    def decode(self, data: bytes, topic: str = "") -> Decoded:
        if len(data) < 5 or data[:1] != CONFLUENT_MAGIC:
            raise SerdeError("not Confluent-framed Avro (missing magic byte 0)")
        (schema_id,) = struct.unpack(">I", data[1:5])
        if schema_id not in self._writers:
            try:
                registered = self.client.get_schema(schema_id)
            except Exception as exc:
                raise SerdeError(f"schema id {schema_id} not found in the registry: {exc}") from exc
            writer = parse_schema(_without_logical_types(json.loads(registered.schema_str)), named_schemas={})
            self._writers[schema_id] = (writer["name"], writer)
        name, writer = self._writers[schema_id]
        reader = self.schemas.by_name.get(name)
        return Decoded(name, _read(io.BytesIO(data[5:]), writer, reader.parsed if reader else writer))


def make_serde(settings: SchemaRegistrySettings | None = None) -> Serde:
    settings = settings or SchemaRegistrySettings()
    return ConfluentSerde(settings) if settings.url else SingleObjectSerde()
