"""An AsyncAPI 3.0 document of every cxpulse topic, generated from schemas/topics.yaml and the .avsc files:
`cxpulse schemas asyncapi > schemas/asyncapi.yaml`. tests/contract checks that the committed document is what this
generates and that the official AsyncAPI parser (with its Avro schema parser) accepts it.

The application it describes is cxpulse as a whole: it sends to the topics its services produce and receives from
the topics they consume. Messages carry Avro (schema format `application/vnd.apache.avro;version=1.9.0`, the
expanded record schema), JSON, or raw bytes (dead letters)."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import yaml

from .registry import avro_records, subject_name
from .schemas import shipped_schemas
from .topics import TopicSpec, load_topics

AVRO_FORMAT = "application/vnd.apache.avro;version=1.9.0"
KAFKA_BINDING = "0.5.0"
CXPULSE_SERVICES = {"ingest", "sentiment", "churn-scoring", "routing", "notification", "insights"}
# The services whose stream loop runs with transactional=True: everything they write (outputs, changelogs, dead
# letters) is in transactions.
TRANSACTIONAL_PRODUCERS = {"ingest", "sentiment", "insights"}
WIRE_FORMATS = (
    "Avro, in one of two framings. Without a schema registry (the default): Avro single-object encoding, bytes C3 01, "
    "the writer schema's 8-byte CRC-64-AVRO fingerprint (little-endian; Java's "
    "SchemaNormalization.parsingFingerprint64), then the body; Avro's BinaryMessageDecoder reads it given the "
    "schemas of schemas/. With a registry: Confluent framing, byte 0, the 4-byte big-endian schema id, then the "
    "body; subject `<topic>-value`, or `<topic>-<record full name>` on topics with several record types. Keys are "
    "UTF-8 strings, partitioned with murmur2 (the Java client's default). Consume with isolation.level="
    "read_committed: several topics are written in transactions, and it costs nothing on the others.")


def _id(name: str) -> str:
    """AsyncAPI ids must match ^[\\w\\d.\\-_]+$: topic names already do; keep them readable."""
    return re.sub(r"[^\w.\-]", "_", name)


def _message(record: str, spec: TopicSpec) -> dict[str, Any]:
    schema = shipped_schemas()[record]
    return {
        "name": record.rsplit(".", 1)[1],
        "title": record,
        "summary": schema.source.get("doc", ""),
        "contentType": "application/octet-stream",
        "payload": {"schemaFormat": AVRO_FORMAT, "schema": shipped_schemas().expanded(record)},
        "bindings": {"kafka": {"key": {"type": "string", "description": f"{spec.key} (UTF-8)"},
                               "bindingVersion": KAFKA_BINDING}},
        "x-avro-fingerprint": int.from_bytes(schema.fingerprint, "little", signed=True),
    }


def _other_message(kind: str, spec: TopicSpec) -> dict[str, Any]:
    if kind == "json":
        payload: dict[str, Any] = {"type": "object", "description": spec.doc}
        if spec.name == "cx.raw.contact-events":
            payload["description"] += " JSON form: schemas/raw/raw-contact-event.schema.json."
        return {"name": "json", "contentType": "application/json", "payload": payload}
    return {"name": "deadLetter", "contentType": "application/octet-stream",
            "summary": "The rejected record's original bytes and key; the reason in cxpulse.error.* headers.",
            "headers": {"type": "object", "properties": {
                h: {"type": "string"} for h in ("cxpulse.error.reason", "cxpulse.error.message", "cxpulse.error.class",
                                                "cxpulse.error.service", "cxpulse.error.source.topic",
                                                "cxpulse.error.source.partition", "cxpulse.error.source.offset")}},
            "payload": {"type": "string", "format": "binary"}}


def _channel(spec: TopicSpec, messages: dict[str, Any]) -> dict[str, Any]:
    topic_config: dict[str, Any] = {"cleanup.policy": spec.cleanup_policy.split(",")}
    if "delete" in spec.cleanup_policy:
        topic_config["retention.ms"] = spec.retention_ms
    notes = [spec.doc, f"Key: {spec.key}."]
    if "compact" in spec.cleanup_policy:
        notes.append("Compacted: the latest record per key is kept.")
    if TRANSACTIONAL_PRODUCERS & set(spec.producers):
        notes.append("Written in Kafka transactions: consume with isolation.level=read_committed.")
    records = avro_records(spec)
    if records:
        subjects = sorted({subject_name(spec.name, r, [spec]) for r in records})
        notes.append(f"Registry subjects: {', '.join(subjects)}.")
    return {
        "address": spec.name,
        "title": spec.name,
        "description": " ".join(notes),
        "messages": messages,
        "bindings": {"kafka": {"topic": spec.name, "partitions": spec.partitions, "replicas": spec.replication_factor,
                               "topicConfiguration": topic_config, "bindingVersion": KAFKA_BINDING}},
    }


def document() -> dict[str, Any]:
    try:
        release = version("cxpulse-core")
    except PackageNotFoundError:
        release = "0.0.0"
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in load_topics():
        refs: dict[str, Any] = {}
        for kind in spec.value_schemas:
            if kind in ("json", "bytes"):
                key = f"{_id(spec.name)}.{kind}"
                messages[key] = _other_message(kind, spec)
            else:
                key = kind
                messages.setdefault(key, _message(kind, spec))
            refs[_id(key)] = {"$ref": f"#/components/messages/{key}"}
        channel_id = _id(spec.name)
        channels[channel_id] = _channel(spec, refs)
        for action, parties in (("send", spec.producers), ("receive", spec.consumers)):
            ours = [p for p in parties if p in CXPULSE_SERVICES]
            if ours:
                operations[f"{action}.{channel_id}"] = {
                    "action": action, "channel": {"$ref": f"#/channels/{channel_id}"},
                    "summary": f"{', '.join(ours)} {'write' if action == 'send' else 'read'} {spec.name}",
                    "messages": [{"$ref": f"#/channels/{channel_id}/messages/{m}"} for m in refs],
                }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "cxpulse topics", "version": release,
                 "description": "Every Kafka topic of cxpulse (real-time customer-sentiment analytics), generated "
                                "from schemas/topics.yaml and schemas/*.avsc by `cxpulse schemas asyncapi`. "
                                + WIRE_FORMATS},
        "defaultContentType": "application/octet-stream",
        "servers": {"local": {"host": "127.0.0.1:9092", "protocol": "kafka",
                              "description": "make kafka-up; set your cluster's bootstrap servers instead"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render() -> str:
    header = "# Generated by `cxpulse schemas asyncapi` from schemas/topics.yaml and the .avsc files: do not edit.\n"
    return header + yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=120)
