"""cxpulse's registry conventions against a real Schema Registry (Apicurio, Confluent-compatible API): the deploy
step `cxpulse schemas register` / `check`, producers with auto-registration off, and what a reader does with a
schema id nobody registered."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from cxpulse_core.registry import subject_name
from cxpulse_core.schemas import schema_dir
from cxpulse_core.serde import ConfluentSerde, SerdeError
from cxpulse_core.settings import SchemaRegistrySettings
from cxpulse_core.testing.kafka import unique_name

pytestmark = pytest.mark.registry
RISK = "io.cxpulse.churn.ChurnRisk"
VALUE = {"event_id": "r-1", "account_id": "a-1", "probability": 0.25, "band": "low", "reasons": [],
         "contacts_seen": 1, "trigger": "contact", "last_contact_id": None, "model_version": "m",
         "as_of_time": 1, "origin_time": 1, "produced_time": 2}


def cxpulse_schemas(action: str, registry: str, prefix: str, folder=None, *extra: str):
    env = os.environ | {"SCHEMA_REGISTRY_URL": registry, "CXPULSE_TOPIC_PREFIX": prefix}
    if folder is not None:
        env["CXPULSE_SCHEMA_DIR"] = str(folder)
    return subprocess.run([sys.executable, "-m", "cxpulse_core.cli", "schemas", action, *extra], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def edited_schemas(tmp_path, edit):
    folder = tmp_path / "schemas"
    shutil.copytree(schema_dir(), folder)
    path = folder / "churn" / "ChurnRisk.avsc"
    source = json.loads(path.read_text())
    edit(source["fields"])
    path.write_text(json.dumps(source, indent=2))
    return folder


def test_subjects_follow_topic_name_strategy_except_on_the_multi_type_topics():
    assert subject_name("p.cx.churn.risk", RISK) == "p.cx.churn.risk-value"
    assert subject_name("cx.interactions", "io.cxpulse.interaction.Utterance") == \
        "cx.interactions-io.cxpulse.interaction.Utterance"
    assert subject_name("cx.sentiment.contacts", "io.cxpulse.sentiment.ContactSummary") == \
        "cx.sentiment.contacts-io.cxpulse.sentiment.ContactSummary"


def test_check_fails_on_a_breaking_change_and_passes_on_an_additive_one(schema_registry, tmp_path):
    prefix = unique_name("schemas") + "."
    registered = cxpulse_schemas("register", schema_registry, prefix)
    assert registered.returncode == 0, registered.stderr
    assert f"registered {prefix}cx.churn.risk-value ({RISK})" in registered.stdout
    assert cxpulse_schemas("check", schema_registry, prefix).returncode == 0

    # Breaking for BACKWARD: a new reader cannot read old records, which lack this field and it has no default.
    breaking = edited_schemas(tmp_path / "b", lambda fields: fields.append(
        {"name": "segment", "type": "string", "doc": "Customer segment."}))
    checked = cxpulse_schemas("check", schema_registry, prefix, breaking)
    assert checked.returncode == 1
    assert f"BREAKING {prefix}cx.churn.risk-value" in checked.stdout
    assert sum(line.startswith("BREAKING") for line in checked.stdout.splitlines()) == 1  # only that subject
    # ... and the registry refuses to register it too.
    assert cxpulse_schemas("register", schema_registry, prefix, breaking).returncode == 1

    additive = edited_schemas(tmp_path / "a", lambda fields: fields.append(
        {"name": "segment", "type": ["null", "string"], "default": None, "doc": "Customer segment."}))
    checked = cxpulse_schemas("check", schema_registry, prefix, additive)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"ok       {prefix}cx.churn.risk-value" in checked.stdout
    assert cxpulse_schemas("register", schema_registry, prefix, additive).returncode == 0


def test_check_refuses_a_subject_whose_compatibility_the_registry_does_not_enforce(schema_registry):
    prefix = unique_name("unenforced") + "."
    ConfluentSerde(SchemaRegistrySettings(url=schema_registry)).encode(RISK, VALUE, prefix + "cx.churn.risk")
    checked = cxpulse_schemas("check", schema_registry, prefix)
    assert checked.returncode == 1
    assert f"UNCHECKED {prefix}cx.churn.risk-value: the registry enforces NONE on it, not BACKWARD" in checked.stdout


def test_producers_with_auto_registration_off_use_what_the_deploy_step_registered(schema_registry):
    prefix = unique_name("noauto") + "."
    topic = prefix + "cx.churn.risk"
    producer = ConfluentSerde(SchemaRegistrySettings(url=schema_registry, auto_register=False))
    with pytest.raises(SerdeError, match=f"not registered under subject {topic}-value"):
        producer.encode(RISK, VALUE, topic)
    assert cxpulse_schemas("register", schema_registry, prefix).returncode == 0
    data = producer.encode(RISK, VALUE, topic)
    latest = producer.client.get_latest_version(f"{topic}-value")
    assert int.from_bytes(data[1:5], "big") == latest.schema_id
    assert ConfluentSerde(SchemaRegistrySettings(url=schema_registry)).decode(data, topic).value == VALUE


def test_an_unknown_schema_id_is_a_clear_serde_error(schema_registry):
    serde = ConfluentSerde(SchemaRegistrySettings(url=schema_registry))
    with pytest.raises(SerdeError, match="unknown schema id 987654321"):
        serde.decode(b"\x00" + (987654321).to_bytes(4, "big") + b"\x02")
