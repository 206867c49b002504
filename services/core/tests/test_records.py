"""The typed records (cxpulse_core/records.py) against schemas/: generated text identical, every class shaped as its
schema (names, field order, defaults), every example in schemas/examples round-tripping with byte-identical wire
bytes in both encodings, and the drift check failing once a schema changes."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
from pathlib import Path

import pytest
from fastavro import schemaless_writer

from cxpulse_core import records
from cxpulse_core.records import RECORDS, ContactSummary, Speaker, Utterance, UtteranceSentiment
from cxpulse_core.records_gen import generate
from cxpulse_core.records_gen import main as gen_records
from cxpulse_core.schemas import SchemaSet, schema_dir, shipped_schemas
from cxpulse_core.serde import ConfluentSerde, Decoded, SerdeError, SingleObjectSerde, encode_record
from cxpulse_core.settings import SchemaRegistrySettings

EXAMPLES = [json.loads(line) for path in sorted((schema_dir() / "examples").glob("*.jsonl"))
            for line in path.read_text().splitlines()]


def test_module_is_what_the_generator_writes_from_schemas():
    assert Path(records.__file__).read_text() == generate(shipped_schemas()), \
        "records.py is out of date with schemas/: run `cxpulse schemas gen-records`"


def test_every_record_schema_has_its_class_with_the_schemas_fields():
    named = [s for s in shipped_schemas() if s.source["type"] == "record"]
    assert {s.name for s in named} == set(RECORDS)
    for schema in named:
        cls = RECORDS[schema.name]
        assert schema.name == cls.SCHEMA
        assert cls.__name__ == schema.source["name"]
        fields = dataclasses.fields(cls)
        assert [f.name for f in fields] == [f["name"] for f in schema.source["fields"]], schema.name
        for ours, theirs in zip(fields, schema.source["fields"], strict=True):
            has_default = ours.default is not dataclasses.MISSING or ours.default_factory is not dataclasses.MISSING
            assert has_default == ("default" in theirs), f"{schema.name}.{ours.name}"
            if ours.default is not dataclasses.MISSING:
                assert ours.default == theirs["default"], f"{schema.name}.{ours.name}"
            elif ours.default_factory is not dataclasses.MISSING:
                assert ours.default_factory() == theirs["default"], f"{schema.name}.{ours.name}"


def test_enums_are_the_schemas_symbols():
    for schema in shipped_schemas():
        if schema.source["type"] == "enum":
            assert [m.value for m in records.ENUMS[schema.name]] == schema.source["symbols"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e["schema"])
@pytest.mark.parametrize("serde", [SingleObjectSerde(), ConfluentSerde(SchemaRegistrySettings(url="mock://records"))],
                         ids=["single-object", "confluent"])
def test_examples_round_trip_with_identical_bytes(example, serde):
    name, value = example["schema"], example["value"]
    data = serde.encode(name, value, "cx.records-test")
    decoded = serde.decode(data, "cx.records-test")
    record = decoded.typed
    assert type(record) is RECORDS[name]
    assert record.to_dict() == decoded.value
    assert encode_record(serde, record, "cx.records-test") == data
    assert type(record).from_dict(record.to_dict()) == record


def test_handlers_match_on_types():
    serde = SingleObjectSerde()
    utterance = next(e["value"] for e in EXAMPLES if e["schema"] == Utterance.SCHEMA)
    summary = next(e["value"] for e in EXAMPLES if e["schema"] == ContactSummary.SCHEMA)

    def kind(data: bytes) -> str:
        match serde.decode(data).typed:
            case Utterance(speaker=Speaker.CUSTOMER, text=text):
                return f"customer said {text!r}"
            case Utterance():
                return "someone else spoke"
            case ContactSummary(contact_id=contact):
                return f"summary of {contact}"
            case other:
                return f"unexpected {other.SCHEMA}"

    assert kind(serde.encode(Utterance.SCHEMA, utterance)).startswith(
        "customer said" if utterance["speaker"] == "customer" else "someone else")
    assert kind(serde.encode(ContactSummary.SCHEMA, summary)) == f"summary of {summary['contact_id']}"


def test_from_dict_fills_schema_defaults_and_enums_equal_their_symbols():
    minimal = {"event_id": "e-1", "contact_id": "c-1", "sequence": 2, "source": "cxpulse", "event_time": 1,
               "ingest_time": 2, "origin_time": 1, "produced_time": 3, "utterance_id": "u-1", "turn": 1,
               "speaker": "agent", "text": "hello"}
    record = Utterance.from_dict(minimal)
    assert (record.channel, record.language, record.redactions, record.account_id) == ("voice", "en-US", {}, None)
    assert record.speaker is Speaker.AGENT and record.speaker == "agent"
    # The typed record writes the bytes fastavro writes for the dict with its defaults filled in.
    serde = SingleObjectSerde()
    assert encode_record(serde, record) == serde.encode(Utterance.SCHEMA, minimal)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.text = "changed"  # type: ignore[misc]
    with pytest.raises(KeyError, match="turn"):
        Utterance.from_dict({k: v for k, v in minimal.items() if k != "turn"})


def test_a_record_written_with_an_older_schema_reads_into_todays_class():
    schemas = shipped_schemas()
    old = next(s for s in schemas.history if s.name == UtteranceSentiment.SCHEMA)
    current = next(e["value"] for e in EXAMPLES if e["schema"] == UtteranceSentiment.SCHEMA)
    body = io.BytesIO()
    schemaless_writer(body, old.parsed, {k: v for k, v in current.items()
                                         if k in {f["name"] for f in old.source["fields"]}})
    decoded = SingleObjectSerde().decode(b"\xc3\x01" + old.fingerprint + body.getvalue())
    assert isinstance(decoded.typed, UtteranceSentiment)


def test_typed_of_a_record_schemas_does_not_define_is_a_serde_error():
    with pytest.raises(SerdeError, match="not a record of schemas/"):
        _ = Decoded("com.example.Other", {"x": 1}).typed
    with pytest.raises(SerdeError, match="does not fit"):
        _ = Decoded(Utterance.SCHEMA, {"event_id": "e-1"}).typed


def test_faust_codec_writes_a_typed_record_as_its_dict():
    from cxpulse_core.faust_codec import AvroCodec

    serde = SingleObjectSerde()
    example = next(e for e in EXAMPLES if e["schema"] == ContactSummary.SCHEMA)
    codec = AvroCodec("cx.sentiment.contacts", serde)
    record = ContactSummary.from_dict(example["value"])
    assert codec.dumps(record) == codec.dumps(Decoded(ContactSummary.SCHEMA, example["value"]))


def test_check_fails_once_a_schema_changes(tmp_path, monkeypatch, capsys):
    """The drift check is real: a field added to a copy of schemas/ makes `gen-records --check` exit 1, and
    regenerating from that copy gives a class with the new field."""
    copy = tmp_path / "schemas"
    shutil.copytree(schema_dir(), copy)
    path = copy / "interaction" / "Utterance.avsc"
    source = json.loads(path.read_text())
    source["fields"].append({"name": "sentiment_hint", "type": ["null", "string"], "default": None, "doc": "New."})
    path.write_text(json.dumps(source))
    monkeypatch.setenv("CXPULSE_SCHEMA_DIR", str(copy))
    out = tmp_path / "records.py"
    shutil.copy(records.__file__, out)
    assert gen_records(["--check", "--out", str(out)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert gen_records(["--out", str(out)]) == 0
    assert gen_records(["--check", "--out", str(out)]) == 0
    assert "sentiment_hint: str | None = None" in out.read_text()
    assert generate(SchemaSet(copy)) == out.read_text()


def test_a_schema_the_generator_cannot_type_is_a_clear_error(tmp_path):
    folder = tmp_path / "schemas"
    folder.mkdir()
    (folder / "Odd.avsc").write_text(json.dumps({
        "type": "record", "namespace": "io.cxpulse.test", "name": "Odd", "doc": "d",
        "fields": [{"name": "either", "type": ["string", "long"], "doc": "d"}]}))
    with pytest.raises(ValueError, match="only \\[\"null\", T\\] is supported"):
        generate(SchemaSet(folder))
