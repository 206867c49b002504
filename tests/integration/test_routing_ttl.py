"""Routing's per-contact table has a TTL: contacts that never end leave the table after it, with tombstones in the
table's changelog (keys JSON, as faust writes them) on the contacts' own partitions (real faust worker, real
broker)."""

from __future__ import annotations

import json

import pytest
from conversations import conversation
from routing_process import routing_topics_and_env

from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.testing.kafka import produce
from cxpulse_core.testing.process import ServiceProcess, read_topic, wait_until

pytestmark = pytest.mark.kafka
UPDATE = "io.cxpulse.sentiment.ContactSentimentUpdate"


def test_contacts_that_never_end_expire_with_tombstones_on_their_partitions(kafka_settings, new_topic, tmp_path):
    topics, env = routing_topics_and_env(kafka_settings, new_topic, tmp_path, contact_ttl_s=4, contact_ttl_check_s=1)
    app_id = env["ROUTING_APP_ID"]
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
