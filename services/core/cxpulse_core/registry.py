"""Schema Registry conventions: which subject a record goes under, and registering / checking `schemas/`.

Subjects: TopicNameStrategy (`<topic>-value`) for every topic that carries one record type, what Kafka tooling
and Confluent's deserializers expect by default. The two topics that carry several record types
(cx.interactions: ContactStarted / Utterance / ContactEnded; cx.sentiment.contacts: ContactSentimentUpdate /
ContactSummary) use TopicRecordNameStrategy (`<topic>-<record full name>`), one subject per record type, each
with its own compatibility history. Topic names include the deployment's CXPULSE_TOPIC_PREFIX."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .schemas import SchemaSet
from .topics import TopicSpec, load_topics, topic_table


def avro_records(spec: TopicSpec) -> list[str]:
    return [name for name in spec.value_schemas if name not in ("json", "bytes")]


def subject_name(topic: str, record: str, specs: list[TopicSpec] | None = None) -> str:
    """The subject for `record` on `topic` (prefixed or not). Topics outside the table (tests, ad hoc tools) get
    TopicNameStrategy."""
    for spec in specs if specs is not None else topic_table().values():
        if topic.endswith(spec.name) and len(avro_records(spec)) > 1:
            return f"{topic}-{record}"
    return f"{topic}-value"


@dataclass(frozen=True)
class Subject:
    name: str
    topic: str
    record: str

    def schema_str(self, schemas: SchemaSet) -> str:
        # Standalone: every named type written out, so any client parses it without references.
        return json.dumps(schemas.expanded(self.record))


def subjects(prefix: str = "", specs: list[TopicSpec] | None = None) -> list[Subject]:
    """Every (subject, record) the topic table implies under `prefix`."""
    specs = specs if specs is not None else load_topics()
    out = []
    for spec in specs:
        topic = prefix + spec.name
        for record in avro_records(spec):
            out.append(Subject(subject_name(topic, record, specs), topic, record))
    return out


def registry_client(config: dict[str, Any]) -> Any:
    from confluent_kafka.schema_registry import SchemaRegistryClient

    return SchemaRegistryClient.new_client(config)


def avro_schema(text: str) -> Any:
    from confluent_kafka.schema_registry import Schema

    return Schema(text, "AVRO")


def is_not_found(exc: Exception) -> bool:
    """A registry 404 (no such subject / version / schema id), as opposed to an outage or a refusal."""
    return getattr(exc, "http_status_code", None) == 404
