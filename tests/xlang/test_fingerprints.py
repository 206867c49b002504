"""Single-object encoding carries a 64-bit schema fingerprint; a stock Avro decoder in another language finds the
writer's schema only if both sides compute the same one. Pinned here against Apache Avro (Java) itself, run on
the same schemas/ folder in this test run."""

import pytest

from cxpulse_core.schemas import shipped_schemas

pytestmark = pytest.mark.java


@pytest.fixture(scope="module")
def java_fingerprints(java_tools):
    result = java_tools.run("Fingerprints", str(shipped_schemas().folder))
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    return {name: (int(fp), canonical) for name, fp, canonical in rows}


def test_every_record_schema_has_the_fingerprint_apache_avro_computes(java_fingerprints):
    ours = {s.name: s for s in shipped_schemas() if s.source.get("type") == "record"}
    assert set(ours) == set(java_fingerprints)
    for name, schema in ours.items():
        java_fp, java_canonical = java_fingerprints[name]
        assert schema.canonical == java_canonical, name
        assert int.from_bytes(schema.fingerprint, "little", signed=True) == java_fp, name


def test_records_with_the_legacy_fingerprints_stay_readable():
    """0.1.0 wrote fingerprints of an unexpanded canonical form; readers still resolve them (see schemas.py)."""
    import json

    from cxpulse_core.serde import SingleObjectSerde

    serde = SingleObjectSerde()
    changed = {s.name for s in shipped_schemas() if s.legacy_fingerprint != s.fingerprint}
    assert "io.cxpulse.churn.ChurnRisk" in changed
    for line in (shipped_schemas().folder / "examples").glob("*.jsonl"):
        for example in map(json.loads, line.read_text().splitlines()):
            if example["schema"] not in changed:
                continue
            record = shipped_schemas()[example["schema"]]
            data = serde.encode(record.name, example["value"])
            assert data[2:10] == record.fingerprint
            as_written_by_010 = data[:2] + record.legacy_fingerprint + data[10:]
            assert serde.decode(as_written_by_010).value == serde.decode(data).value
