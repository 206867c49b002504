"""A faster restore for the faust services' in-memory tables: read each changelog with librdkafka before the worker
starts, so that faust's own recovery only reads what was written since.

Why: faust restores a table by passing every changelog record through its stream machinery (the fetch loop, the
conductor, a queue and a task per record), about 5,000 records/s here. Routing after the ttl bench (40,000 never-
ending contacts: their states, tombstones and guided turns) took over 30 s to be ready after a kill -9, nearly all
of it that. librdkafka reads the same topic in about a second.

How: the tables use `PreloadedStore` (store URL `preloaded://`): faust's memory store, plus the offset up to which
`preload` filled it. faust's recovery asks each table's store for that offset (`persisted_offset`), as it does a
RocksDB store's, and reads only the records after it. The preloaded offsets serve the first recovery only: after it,
faust's memory store drops the keys of partitions this worker was not given, and any later recovery (a rebalance)
reads from the start as before. Records are decoded and applied by faust's own code (the changelog topic's
serializers, the store's `apply_changelog_batch`), so a preloaded table holds what faust's recovery would."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

import faust
from faust.stores import STORES
from faust.stores import memory as faust_memory
from faust.types import TP

from .changelog import MissingTopicError, read_to_end, topic_partitions
from .settings import KafkaSettings

log = logging.getLogger(__name__)

STORE_URL = "preloaded://"
STORES.aliases["preloaded"] = f"{__name__}:PreloadedStore"
_BATCH = 1_000  # records applied to the store at a time (faust's recovery_buffer_size)


class PreloadedStore(faust_memory.Store):
    """faust's memory store that knows up to which changelog offset `preload` filled it (first recovery only)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.preloaded: dict[TP, int] = {}

    def persisted_offset(self, tp: TP) -> int | None:
        return self.preloaded.get(tp)

    async def on_recovery_completed(self, active_tps: set[TP], standby_tps: set[TP]) -> None:
        self.preloaded.clear()
        await super().on_recovery_completed(active_tps, standby_tps)


def preload(app: faust.App, kafka: KafkaSettings) -> dict[str, int]:
    """Fills every table of `app` whose store is a PreloadedStore from its changelog, all partitions; returns the
    records read per table. Called in `main` before the worker starts (each table's partitions set). A changelog
    that does not exist yet (the first start: faust creates it) has nothing to preload."""
    read: dict[str, int] = {}
    for table in app.tables.values():
        store = table.data
        if not isinstance(store, PreloadedStore):
            continue
        started, topic = time.monotonic(), table.changelog_topic
        name = topic.get_topic_name()
        batch: list[Any] = []
        count = 0
        try:
            partitions = topic_partitions(kafka, name)
        except MissingTopicError:
            partitions = []
        for message in read_to_end(kafka, name, partitions):
            batch.append(_event(app, topic, message))
            store.preloaded[TP(name, message.partition())] = message.offset()
            count += 1
            if len(batch) >= _BATCH:
                _apply(table, store, batch)
        _apply(table, store, batch)
        read[table.name] = count
        log.info("table preloaded from its changelog", extra={
            "table": table.name, "records": count, "keys": len(store.data),
            "seconds": round(time.monotonic() - started, 2)})
    return read


def _event(app: faust.App, topic: Any, message: Any) -> SimpleNamespace:
    """What the memory store's apply_changelog_batch reads of a faust event, decoded as faust's conductor would."""
    raw = message.value()
    key = app.serializers.loads_key(topic.key_type, message.key(), serializer=topic.key_serializer)
    value = None if raw is None else app.serializers.loads_value(
        topic.value_type, raw, serializer=topic.value_serializer)
    return SimpleNamespace(key=key, value=value, message=SimpleNamespace(value=raw, partition=message.partition()))


def _apply(table: Any, store: PreloadedStore, batch: list[Any]) -> None:
    events: Iterable[Any] = batch
    store.apply_changelog_batch(events, to_key=table._to_key, to_value=table._to_value)
    batch.clear()
