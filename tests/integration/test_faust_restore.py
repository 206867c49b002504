"""core.faust_restore: a faust table preloaded from its changelog (real broker, faust's own serializers and store
code) holds what the changelog says, and tells faust's recovery to read only what comes after it, once."""

from __future__ import annotations

import asyncio

import faust
import pytest
from confluent_kafka import Producer
from faust.types import TP

from cxpulse_core.faust_ops import copartition
from cxpulse_core.faust_restore import STORE_URL, PreloadedStore, preload
from cxpulse_core.testing.kafka import unique_name

pytestmark = pytest.mark.kafka


def test_a_preloaded_table_holds_the_changelogs_last_values_and_its_offsets_serve_one_recovery(
        kafka_settings, new_topic):
    app = faust.App(unique_name("restore"), broker=f"kafka://{kafka_settings.bootstrap_servers}",
                    web_enabled=False, store=STORE_URL, topic_replication_factor=1)
    table = app.Table("contacts", key_type=str)
    copartition(table, kafka_settings, new_topic("source", partitions=3))
    changelog = table.changelog_topic
    name = changelog.get_topic_name()

    def record(key: str, value: dict | None) -> tuple[bytes, bytes | None]:
        raw = None if value is None else app.serializers.dumps_value(
            changelog.value_type, value, serializer=changelog.value_serializer)
        return app.serializers.dumps_key(changelog.key_type, key, serializer=changelog.key_serializer), raw

    # Per partition: a key written twice, one written and then deleted (a tombstone), one written once.
    writes = {p: [record(f"a{p}", {"turn": 1}), record(f"b{p}", {"turn": 1}), record(f"a{p}", {"turn": 2}),
                  record(f"b{p}", None), record(f"c{p}", {"turn": 5, "nested": {"x": [1, 2]}})] for p in range(3)}
    producer = Producer(kafka_settings.client_config())
    for p, records in writes.items():
        for key, value in records:
            producer.produce(name, value, key, partition=p)
    assert producer.flush(30) == 0

    assert preload(app, kafka_settings) == {"contacts": 15}
    store = table.data
    assert isinstance(store, PreloadedStore)
    assert dict(store.data) == {k: v for p in range(3) for k, v in (
        (f"a{p}", {"turn": 2}), (f"c{p}", {"turn": 5, "nested": {"x": [1, 2]}}))}
    # faust's recovery starts at the last record read (and skips it: it has seen that offset).
    assert {p: table.persisted_offset(TP(name, p)) for p in range(3)} == {0: 4, 1: 4, 2: 4}
    # Keeps faust's bookkeeping of which partition a key is on (it drops the keys of partitions not assigned).
    asyncio.run(store.on_recovery_completed({TP(name, 0), TP(name, 1)}, set()))
    assert sorted(store.data) == ["a0", "a1", "c0", "c1"]
    # A later recovery (after a rebalance) reads its partitions from the start, as with faust's memory store.
    assert table.persisted_offset(TP(name, 0)) is None
