"""Routing's per-contact table has a TTL: contacts that never end leave the table after it, with tombstones in the
table's changelog (keys JSON, as faust writes them) on the contacts' own partitions (real faust worker, real
broker)."""

from __future__ import annotations

import json

import pytest
from conversations import conversation

from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.testing.kafka import produce, unique_name
from cxpulse_core.testing.process import ServiceProcess, read_topic, wait_until

pytestmark = pytest.mark.kafka
UPDATE = "io.cxpulse.sentiment.ContactSentimentUpdate"


def test_contacts_that_never_end_expire_with_tombstones_on_their_partitions(kafka_settings, new_topic, tmp_path):
    topics = {"contacts": new_topic("contacts", partitions=3), "utterances": new_topic("utterances", partitions=3),
              "churn": new_topic("churn", compact=True), "escalations": new_topic("escalations"),
              "alerts": new_topic("alerts"), "guidance": new_topic("guidance"), "deadletter": new_topic("dlq")}
    app_id = unique_name("routing-ttl")
    env = {f"ROUTING_{role.upper()}_TOPIC": name for role, name in topics.items()} | {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers, "ROUTING_APP_ID": app_id,
        "ROUTING_DATA_DIR": str(tmp_path / "faust"), "CXPULSE_LOG_LEVEL": "WARNING",
        "ROUTING_CONTACT_TTL_S": "4", "ROUTING_CONTACT_TTL_CHECK_S": "1"}
    serde = SingleObjectSerde()
    contacts = [f"never-ends-{i}" for i in range(12)]
    updates = [u for c in contacts for u in conversation([0.1, 0.2], contact=c)]
    changelog = f"{app_id}-contacts-changelog"
    with ServiceProcess("cxpulse_routing", env, tmp_path / "routing.log") as service:
        service.start()
        produce(kafka_settings, topics["contacts"], [(u["contact_id"], serde.encode(UPDATE, u, topics["contacts"]))
                                                     for u in updates])

        def tombstones() -> dict[str, int]:
            return {json.loads(m.key()): m.partition() for m in read_topic(kafka_settings, changelog)
                    if m.value() is None}

        gone = wait_until(lambda: len(tombstones()) == len(contacts) and tombstones(), "every idle contact expired")
        assert service.stop() == 0
    state = {json.loads(m.key()): m.partition() for m in read_topic(kafka_settings, changelog) if m.value() is not None}
    assert set(gone) == set(contacts)
    assert gone == {c: state[c] for c in contacts}  # each tombstone on the partition its state was written to
