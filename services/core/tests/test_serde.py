import pytest

from cxpulse_core.schemas import shipped_schemas
from cxpulse_core.serde import ConfluentSerde, SerdeError, SingleObjectSerde
from cxpulse_core.settings import SchemaRegistrySettings

UTTERANCE = {
    "event_id": "e-1", "contact_id": "c-1", "account_id": "a-1", "customer_id": None, "agent_id": "ag-1",
    "queue": "billing", "channel": "voice", "journey_stage": None, "language": "en-US", "sequence": 2,
    "source": "cxpulse", "event_time": 1764190800000, "ingest_time": 1764190800003, "origin_time": 1764190800001,
    "produced_time": 1764190800004, "utterance_id": "u-1", "turn": 1, "speaker": "customer",
    "text": "You charged me twice.", "begin_offset_ms": None, "end_offset_ms": None, "redactions": {},
}
NAME = "io.cxpulse.interaction.Utterance"


def test_single_object_encoding_layout_and_round_trip():
    serde = SingleObjectSerde()
    data = serde.encode(NAME, dict(UTTERANCE))
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == shipped_schemas()[NAME].fingerprint
    decoded = serde.decode(data)
    assert decoded.schema == NAME
    assert decoded.value == UTTERANCE  # timestamps stay epoch-ms ints


def test_fingerprint_matches_the_avro_spec():
    # CRC-64-AVRO of the canonical form "int" is 0x7275d51a3f395c8f (Avro spec test vector), little-endian.
    from fastavro.schema import fingerprint

    assert bytes.fromhex(fingerprint('"int"', "CRC-64-AVRO")) == (0x7275D51A3F395C8F).to_bytes(8, "little")


@pytest.mark.parametrize("data, message", [
    (b"{}", "missing C3 01 marker"),
    (b"\xc3\x01" + b"\x00" * 8 + b"x", "unknown writer schema fingerprint"),
])
def test_decode_errors_are_clear(data, message):
    with pytest.raises(SerdeError, match=message):
        SingleObjectSerde().decode(data)


def test_corrupt_body_is_a_serde_error():
    serde = SingleObjectSerde()
    data = serde.encode(NAME, dict(UTTERANCE))
    with pytest.raises(SerdeError, match="corrupt Avro body"):
        serde.decode(data[:14])


def test_encode_rejects_records_that_do_not_match():
    with pytest.raises(SerdeError, match="does not match"):
        SingleObjectSerde().encode(NAME, {"event_id": "only this"})


def test_reader_resolves_an_older_writer_schema():
    """A record written with an older version of a schema (a field missing) is read with the new default."""
    from cxpulse_core.schemas import SchemaSet

    old = shipped_schemas()["io.cxpulse.churn.ChurnRisk"].source
    old = {**old, "fields": [f for f in old["fields"] if f["name"] != "trigger"]}
    import json
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        reason = shipped_schemas()["io.cxpulse.churn.ChurnReason"].source
        Path(folder, "ChurnReason.avsc").write_text(json.dumps(reason))
        Path(folder, "ChurnRisk.avsc").write_text(json.dumps(old))
        writer = SingleObjectSerde(SchemaSet(Path(folder)))
        value = {"event_id": "r", "account_id": "a", "probability": 0.5, "band": "medium", "reasons": [],
                 "contacts_seen": 1, "last_contact_id": None, "model_version": "m", "as_of_time": 1,
                 "origin_time": 1, "produced_time": 2}
        data = writer.encode("io.cxpulse.churn.ChurnRisk", value)
    reader = SingleObjectSerde()
    # The new reader knows the old fingerprint only if the old schema ships too; it does not, so it is refused
    # clearly rather than misread ...
    with pytest.raises(SerdeError, match="unknown writer schema"):
        reader.decode(data)
    # ... and with the old schema registered as a known writer, it resolves to the new shape with the default.
    reader.schemas.by_fingerprint[data[2:10]] = writer.schemas["io.cxpulse.churn.ChurnRisk"]
    assert reader.decode(data).value["trigger"] == "contact"


def test_confluent_framing_with_a_registry():
    serde = ConfluentSerde(SchemaRegistrySettings(url="mock://cxpulse-test"))
    data = serde.encode(NAME, dict(UTTERANCE), "cx.interactions")
    assert data[0] == 0
    schema_id = int.from_bytes(data[1:5], "big")
    registered = serde.client.get_latest_version(f"cx.interactions-{NAME}")
    assert registered.schema_id == schema_id
    assert serde.decode(data, "cx.interactions").value == UTTERANCE
    # A second reader with an empty cache finds the writer schema in the registry by id.
    other = ConfluentSerde(SchemaRegistrySettings(url="mock://cxpulse-test"))
    other.client = serde.client  # the in-memory registry is per client; a real one is shared by URL
    assert other.decode(data, "cx.interactions").schema == NAME
