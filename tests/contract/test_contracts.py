"""Contracts: every schema parses and is documented, every topic names known schemas, every example validates
and round-trips through both wire formats, and the topic names other teams rely on exist."""

import json
from pathlib import Path

import pytest
from fastavro import parse_schema
from fastavro.validation import validate

from cxpulse_core.schemas import schema_dir, shipped_schemas
from cxpulse_core.serde import ConfluentSerde, SingleObjectSerde
from cxpulse_core.settings import SchemaRegistrySettings
from cxpulse_core.topics import load_topics

EXAMPLES = sorted((schema_dir() / "examples").glob("*.jsonl"))
DESIGN_TOPICS = {"cx.raw.contact-events", "cx.raw.contact-lens", "cx.interactions", "cx.sentiment.utterances",
                 "cx.sentiment.contacts", "cx.churn.risk", "cx.routing.escalations", "cx.agent.guidance",
                 "cx.alerts", "cx.notifications.log"}


def _examples():
    for path in EXAMPLES:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            row = json.loads(line)
            yield pytest.param(path.stem, row["schema"], row["value"], id=f"{path.stem}:{number}")


def test_every_schema_is_namespaced_and_documented():
    for schema in shipped_schemas():
        source = schema.source
        assert source.get("namespace", "").startswith("io.cxpulse"), schema.name
        assert source.get("doc"), f"{schema.name} has no doc"
        for field in source.get("fields", []):
            assert field.get("doc"), f"{schema.name}.{field['name']} has no doc"


def test_nullable_fields_default_to_null():
    for schema in shipped_schemas():
        for field in schema.source.get("fields", []):
            if isinstance(field["type"], list) and field["type"][0] == "null":
                assert "default" in field and field["default"] is None, f"{schema.name}.{field['name']}"


def test_every_expanded_schema_stands_alone():
    for schema in shipped_schemas():
        parse_schema(shipped_schemas().expanded(schema.name), named_schemas={})


def test_topic_table_covers_the_design_and_names_known_schemas():
    specs = {spec.name: spec for spec in load_topics()}
    assert set(specs) >= DESIGN_TOPICS
    for spec in specs.values():
        for name in spec.value_schemas:
            assert name in ("json", "bytes") or name in shipped_schemas().by_name, (spec.name, name)
    assert specs["cx.churn.risk"].cleanup_policy == "compact"


def test_every_avro_topic_has_examples_of_each_schema():
    examples = {(path.stem, json.loads(line)["schema"]) for path in EXAMPLES for line in path.read_text().splitlines()}
    for spec in load_topics():
        for name in spec.value_schemas:
            if name not in ("json", "bytes") and not spec.name.startswith("cx.raw."):
                assert (spec.name, name) in examples, f"no example of {name} on {spec.name}"


@pytest.mark.parametrize("topic, schema, value", list(_examples()))
def test_example_validates_and_round_trips(topic, schema, value):
    assert schema in {s for spec in load_topics() if spec.name == topic for s in spec.value_schemas}
    assert validate(value, shipped_schemas()[schema].parsed, raise_errors=True)
    for serde in (SingleObjectSerde(), ConfluentSerde(SchemaRegistrySettings(url="mock://contracts"))):
        decoded = serde.decode(serde.encode(schema, dict(value), topic), topic)
        assert decoded.schema == schema
        assert decoded.value == value


def test_schema_files_are_one_record_each():
    for path in Path(schema_dir()).rglob("*.avsc"):
        source = json.loads(path.read_text())
        assert source["name"] == path.stem, path
