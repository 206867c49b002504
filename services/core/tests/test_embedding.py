"""The embedding on UtteranceSentiment: int8 packing, and records written before the field existed stay readable."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from fastavro import parse_schema, schemaless_writer

from cxpulse_core.embedding import EmbeddingError, pack, pack_many, unpack
from cxpulse_core.schemas import HISTORY, _without_logical_types, shipped_schemas
from cxpulse_core.serde import SINGLE_OBJECT_MARKER, SingleObjectSerde

NAME = "io.cxpulse.sentiment.UtteranceSentiment"


def _vectors(n: int) -> np.ndarray:
    v = np.random.default_rng(7).normal(size=(n, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_int8_round_trip_keeps_the_direction():
    for v in _vectors(50):
        record = pack(v, "enc-1")
        assert len(record["values"]) == 384 and record["encoder"] == "enc-1"
        assert float(unpack(record, 384) @ v) > 0.9999


def test_pack_many_is_pack_of_each_row():
    vs = _vectors(5)
    assert pack_many(vs, "e") == [pack(v, "e") for v in vs]


def test_malformed_embeddings_fail_clearly():
    with pytest.raises(EmbeddingError, match="expected 384"):
        unpack({"encoder": "e", "format": "int8", "scale": 1.0, "values": b"\1\2"}, 384)
    with pytest.raises(EmbeddingError, match="format"):
        unpack({"encoder": "e", "format": "pq", "scale": 1.0, "values": b"\1" * 384})
    with pytest.raises(EmbeddingError, match="zero"):
        unpack({"encoder": "e", "format": "int8", "scale": 1.0, "values": b"\0" * 384})


def _example() -> dict:
    line = (shipped_schemas().folder / "examples" / "cx.sentiment.utterances.jsonl").read_text().splitlines()[0]
    return json.loads(line)["value"]


def test_a_record_written_before_the_embedding_field_reads_with_embedding_null():
    """Single-object encoding names the writer's schema only by fingerprint: the previous version is kept in
    schemas/history so a reader resolves it to today's (the new field takes its default)."""
    schemas = shipped_schemas()
    previous = next(s for s in schemas.history if s.name == NAME)
    assert previous.fingerprint != schemas[NAME].fingerprint
    old = json.loads((schemas.folder / HISTORY / f"{NAME}.v1.avsc.json").read_text())
    value = {k: v for k, v in _example().items() if k != "embedding"}
    body = io.BytesIO()
    named = {s.name: s.parsed for s in schemas if s.name != NAME}
    schemaless_writer(body, parse_schema(_without_logical_types(old), named_schemas=named), value)
    decoded = SingleObjectSerde().decode(SINGLE_OBJECT_MARKER + previous.fingerprint + body.getvalue())
    assert decoded.schema == NAME and decoded.value == value | {"embedding": None}


def test_todays_record_carries_the_embedding():
    serde, value = SingleObjectSerde(), _example() | {"embedding": pack(_vectors(1)[0], "enc-1")}
    assert serde.decode(serde.encode(NAME, value)).value == value
