"""schemas/asyncapi.yaml: generated from schemas/topics.yaml + the .avsc files (never edited by hand), and accepted
by the official AsyncAPI parser (@asyncapi/parser 3.6, npm) with its Avro schema parser, run under node."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from cxpulse_core.asyncapi import document, render
from cxpulse_core.schemas import schema_dir, shipped_schemas
from cxpulse_core.topics import load_topics

TOOLS = schema_dir().parent / "tests" / "contract" / "asyncapi"
COMMITTED = schema_dir() / "asyncapi.yaml"


@pytest.fixture(scope="module")
def validate():
    if not (TOOLS / "node_modules" / "@asyncapi" / "parser").is_dir():  # make test does this; test-unit may not
        subprocess.run(["npm", "ci", "--prefix", str(TOOLS), "--no-audit", "--no-fund"], check=True,
                       capture_output=True, timeout=600)

    def run(path) -> tuple[int, dict]:
        result = subprocess.run(["node", str(TOOLS / "validate.mjs"), str(path)], capture_output=True, text=True,
                                timeout=120, check=False)
        return result.returncode, json.loads(result.stdout)

    return run


def test_the_committed_document_is_what_the_generator_writes():
    assert COMMITTED.read_text() == render(), "regenerate: cxpulse schemas asyncapi > schemas/asyncapi.yaml"


def test_every_topic_and_record_is_in_the_document():
    doc = document()
    assert set(doc["channels"]) == {spec.name for spec in load_topics()}
    records = {s.name for s in shipped_schemas() if any(s.name in t.value_schemas for t in load_topics())}
    assert records <= set(doc["components"]["messages"])
    risk = doc["components"]["messages"]["io.cxpulse.churn.ChurnRisk"]
    assert risk["x-avro-fingerprint"] == int.from_bytes(shipped_schemas()[risk["title"]].fingerprint, "little",
                                                        signed=True)
    assert "read_committed" in doc["channels"]["cx.sentiment.utterances"]["description"]


def test_the_official_asyncapi_parser_accepts_it(validate):
    code, summary = validate(COMMITTED)
    assert code == 0, summary["errors"]
    assert summary["errors"] == [] and summary["warnings"] == []
    assert summary["channels"] == len(load_topics())
    assert summary["avroPayloads"] == len(document()["components"]["messages"]) - sum(
        kind in ("json", "bytes") for spec in load_topics() for kind in spec.value_schemas)


def test_the_parser_rejects_a_broken_avro_payload(validate, tmp_path):
    """The check can fail: a typo in an Avro type is caught by the Avro schema parser."""
    doc = document()
    doc["components"]["messages"]["io.cxpulse.churn.ChurnRisk"]["payload"]["schema"]["fields"][0]["type"] = "strnig"
    broken = tmp_path / "asyncapi.yaml"
    broken.write_text(yaml.safe_dump(doc, sort_keys=False))
    code, summary = validate(broken)
    assert code == 1
    assert any("ChurnRisk" in e["path"] for e in summary["errors"]), summary["errors"]


def test_the_parser_rejects_a_structural_error(validate, tmp_path):
    doc = document()
    next(iter(doc["operations"].values()))["action"] = "publish"  # AsyncAPI 2's verb, not 3's send/receive
    broken = tmp_path / "asyncapi.yaml"
    broken.write_text(yaml.safe_dump(doc, sort_keys=False))
    code, summary = validate(broken)
    assert code == 1 and summary["errors"]
