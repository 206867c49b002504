"""A TTL for the per-contact table: a contact that never sends its ContactSummary is dropped `ttl_s` after its
last update, with a tombstone in the table's changelog (so compaction removes it there too and a restart does
not bring it back).

faust only lets an agent modify a table while it handles an event (the changelog partition is the event's).
Expiry runs from a timer instead, so it deletes from the table's store directly and sends the tombstone to the
partition the contact's state lives on: the input partition its updates came on when this process saw one, else
the one the upstream (Java-compatible murmur2) partitioner gives its key, which is the same partition."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from aiokafka.partitioner import murmur2

from cxpulse_core.memory import MemoryRelease, compacted

log = logging.getLogger(__name__)


class ContactExpiry:
    def __init__(self, table: Any, ttl_s: float, partitions: int | None = None,
                 clock: Callable[[], float] = time.time, name: str = "contacts") -> None:
        # partitions: the table's own (known once the worker starts) unless given
        self.table, self._partitions, self.ttl_s, self.clock = table, partitions, ttl_s, clock
        self.seen: dict[str, tuple[int, float]] = {}  # contact -> (partition, last update)
        self.expired = 0
        self.memory = MemoryRelease(name)

    def touch(self, contact_id: str, partition: int | None) -> None:
        self.seen[contact_id] = (self.partition_for(contact_id) if partition is None else partition, self.clock())

    def forget(self, contact_id: str) -> None:
        self.seen.pop(contact_id, None)

    @property
    def partitions(self) -> int:
        return self._partitions or self.table.partitions

    def partition_for(self, contact_id: str) -> int:
        return (murmur2(contact_id.encode()) & 0x7FFFFFFF) % self.partitions

    def expire(self) -> int:
        """Drops the contacts idle past the TTL; returns how many. Contacts in the table this process has not
        seen updated (restored from the changelog, or on newly assigned partitions) count from now."""
        now = self.clock()
        store = self.table.data
        held = set(store.keys())
        for contact_id in held - self.seen.keys():
            self.seen[contact_id] = (self.partition_for(contact_id), now)
        for contact_id in self.seen.keys() - held:  # deleted by a summary, or its partition went elsewhere
            del self.seen[contact_id]
        stale = [(c, p) for c, (p, last) in self.seen.items() if now - last > self.ttl_s]
        for contact_id, partition in stale:
            del self.seen[contact_id]
            store.pop(contact_id, None)
            self.table.send_changelog(partition, contact_id, None, value_serializer="raw")
        if stale:
            self.expired += len(stale)
            log.info("idle contacts expired", extra={"contacts": len(stale), "ttl_s": self.ttl_s})
        self.memory.note(len(stale), self._compact)  # 0 included: a sweep's tail is released a little later
        return len(stale)

    def _compact(self) -> None:
        """Before the trim: the maps re-sized (a dict's table never shrinks on delete): `seen`, and the dict
        inside faust's memory store (tables here are memory://; another store keeps its own layout)."""
        self.seen = compacted(self.seen)
        store = self.table.data
        if isinstance(getattr(store, "data", None), dict):
            store.data = compacted(store.data)
