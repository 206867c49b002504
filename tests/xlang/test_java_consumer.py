"""A plain JVM consumer (tests/java: kafka-clients 4.1.1 + Apache Avro 1.12 from Maven Central, GenericRecords from
the .avsc files of schemas/) reads what cxpulse's Python producer wrote to the real test broker, and every field
of every record must come out as written. Once per wire format: Avro single-object encoding (Avro's own
BinaryMessageDecoder finds the writer's schema by fingerprint) and Confluent framing against a real registry."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from xlang_records import examples, generated

from cxpulse_core import topics
from cxpulse_core.kafka import make_producer
from cxpulse_core.serde import ConfluentSerde, Serde, SingleObjectSerde
from cxpulse_core.settings import SchemaRegistrySettings
from cxpulse_core.testing.kafka import unique_name

pytestmark = [pytest.mark.kafka, pytest.mark.java]

# topic -> (record, the field that is the message key)
TOPICS = {
    topics.CHURN_RISK: ("io.cxpulse.churn.ChurnRisk", "account_id"),
    topics.ESCALATIONS: ("io.cxpulse.routing.Escalation", "contact_id"),
    topics.UTTERANCE_SENTIMENT: ("io.cxpulse.sentiment.UtteranceSentiment", "contact_id"),
}


def write_like_the_services(kafka_settings, serde: Serde, topic_of, records) -> None:
    """The services' producer settings, in a transaction as sentiment and the faust services write. An aborted
    transaction goes first: a reader that is not read_committed would count its records and fail the check."""
    producer = make_producer(kafka_settings, **{"transactional.id": unique_name("xlang-writer")})
    producer.init_transactions(30)
    for commit in (False, True):
        producer.begin_transaction()
        for topic, (schema, key_field) in TOPICS.items():
            for value in records[topic]:
                data = serde.encode(schema, value if commit else {**value, "event_id": "aborted"}, topic_of(topic))
                producer.produce(topic_of(topic), data, str(value[key_field]).encode())
        if commit:
            producer.commit_transaction(30)
        else:
            producer.flush(30)
            producer.abort_transaction(30)


def read_with_java(java_tools, kafka_settings, topic_of, records, fmt: str, registry: str | None = None):
    expected = {topic_of(topic): (schema, len(records[topic])) for topic, (schema, _) in TOPICS.items()}
    return java_tools.read_topics(kafka_settings.bootstrap_servers, expected, fmt, registry)


def canonical(key: Any, value: dict[str, Any]) -> str:
    # bytes (the utterance embedding) as base64 text, the way the JVM reader prints them
    return json.dumps([key, value], sort_keys=True, ensure_ascii=False, default=lambda b: base64.b64encode(b).decode())


def check_every_field(records, lines, topic_of) -> None:
    for topic, (schema, key_field) in TOPICS.items():
        got = [line for line in lines if line["topic"] == topic_of(topic)]
        assert [line for line in got if "error" in line] == []
        assert {line["schema"] for line in got} == {schema}
        written = sorted(canonical(str(v[key_field]), v) for v in records[topic])
        read = sorted(canonical(line["key"], line["value"]) for line in got)
        assert read == written, topic  # same records, every field equal, nothing aborted, nothing extra


@pytest.fixture(scope="module")
def records():
    return {topic: examples(schema) + generated(schema, 25, seed=len(topic)) for topic, (schema, _) in TOPICS.items()}


def test_a_java_consumer_reads_single_object_encoding(java_tools, kafka_settings, cx_runtime, records):
    write_like_the_services(kafka_settings, SingleObjectSerde(), cx_runtime.topic, records)
    result, lines = read_with_java(java_tools, kafka_settings, cx_runtime.topic, records, "single-object")
    assert result.returncode == 0, result.stderr
    check_every_field(records, lines, cx_runtime.topic)


@pytest.mark.registry
def test_a_java_consumer_reads_registry_framing(java_tools, kafka_settings, cx_runtime, records, schema_registry):
    """Confluent wire format against the real registry: the JVM side fetches each writer schema by id from the
    registry's Confluent-compatible API and decodes with plain Avro (no Confluent jars: they are not on Maven
    Central). Subjects are TopicNameStrategy's `<topic>-value`, which is what Confluent's deserializer looks up."""
    serde = ConfluentSerde(SchemaRegistrySettings(url=schema_registry))
    write_like_the_services(kafka_settings, serde, cx_runtime.topic, records)
    for topic, (schema, _) in TOPICS.items():
        registered = serde.client.get_latest_version(f"{cx_runtime.topic(topic)}-value")
        assert json.loads(registered.schema.schema_str)["name"] == schema.rsplit(".", 1)[1]
    result, lines = read_with_java(java_tools, kafka_settings, cx_runtime.topic, records, "confluent",
                                   schema_registry)
    assert result.returncode == 0, result.stderr
    check_every_field(records, lines, cx_runtime.topic)
