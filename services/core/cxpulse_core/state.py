"""Per-partition state kept beside a stream, after quix-streams' `State` (get / set / delete / exists), scoped to
the input partition being processed instead of one message key.

Values live in memory as the handler's own objects; every `set`/`delete` marks the key, and the stream loop
writes one changelog record per marked key (encoded then, so a key changed ten times in a batch is written once)
to a compacted changelog topic, on the key's input partition, with the batch's outputs: in the same Kafka
transaction where the loop is transactional, otherwise before the batch's input offsets are stored. On partition
assignment the loop reads the changelog partitions back before any record of them is handled; on revoke it drops
them. State restored this way matches the committed input position (transactional) or runs ahead of it
(at-least-once: a re-read input finds its own effect, which handlers absorb by event id or dedup key)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from confluent_kafka import Message

from .changelog import MissingTopicError, read_to_end, topic_partitions
from .loop import Output
from .settings import KafkaSettings

log = logging.getLogger(__name__)
V = TypeVar("V")
_MISSING = object()


def json_encode(value: Any) -> bytes:
    """Changelog values are compact JSON by default (internal to one service, never read by another)."""
    return json.dumps(value, separators=(",", ":")).encode()


class PartitionState(Generic[V]):
    """One partition's keys. Reads and writes are in memory; writes are marked for the changelog."""

    def __init__(self, partition: int, dirty: set[tuple[int, str]]) -> None:
        self.partition = partition
        self._values: dict[str, V] = {}
        self._dirty = dirty  # the store's: (partition, key) written since the last changelog flush

    def get(self, key: str, default: V | None = None) -> V | None:
        return self._values.get(key, default)

    def set(self, key: str, value: V) -> None:
        """Stores `value` (or marks a value changed in place) for the changelog."""
        self._values[key] = value
        self._dirty.add((self.partition, key))

    def delete(self, key: str) -> None:
        """Removes the key; its changelog record becomes a tombstone (compaction drops it there too)."""
        if self._values.pop(key, _MISSING) is not _MISSING or (self.partition, key) in self._dirty:
            self._dirty.add((self.partition, key))

    def exists(self, key: str) -> bool:
        return key in self._values

    __contains__ = exists

    def __len__(self) -> int:
        return len(self._values)

    def items(self) -> Iterator[tuple[str, V]]:
        return iter(list(self._values.items()))

    def compact(self) -> None:
        """Re-sizes the map after many deletes (a dict's table never shrinks; see cxpulse_core.memory)."""
        self._values = self._values.copy()

    def _load(self, key: str, value: V | None) -> None:
        if value is None:
            self._values.pop(key, None)
        else:
            self._values[key] = value


class ChangelogState(Generic[V]):
    """The state of every partition a service instance is assigned, backed by the compacted `topic` (the same
    partition count as the input topics). `encode`/`decode` turn a value into changelog bytes and back (JSON by
    default); a record `decode` cannot read is skipped with a warning rather than stopping the restore."""

    def __init__(self, topic: str, kafka: KafkaSettings | None,
                 encode: Callable[[V], bytes] = json_encode,
                 decode: Callable[[str, bytes], V] = lambda _key, raw: json.loads(raw),
                 read: Callable[[str, list[int]], Iterable[Message]] | None = None) -> None:
        self.topic, self.encode, self.decode = topic, encode, decode
        self._read = read or (lambda topic, partitions: read_to_end(kafka, topic, partitions))  # type: ignore[arg-type]
        self._partitions: dict[int, PartitionState[V]] = {}
        self._dirty: set[tuple[int, str]] = set()

    def partition(self, partition: int) -> PartitionState[V]:
        """The state of one assigned partition (created empty for a partition nothing was restored for)."""
        state = self._partitions.get(partition)
        if state is None:
            state = self._partitions[partition] = PartitionState(partition, self._dirty)
        return state

    @property
    def partitions(self) -> list[int]:
        return sorted(self._partitions)

    def assign(self, partitions: list[int]) -> int:
        """Reads the changelog of `partitions` back (from the beginning to its end now); returns the records read."""
        fresh = [p for p in partitions if p not in self._partitions]
        for p in fresh:
            self.partition(p)
        count = 0
        for message in self._read(self.topic, fresh):
            count += 1
            key = (message.key() or b"").decode("utf-8", "replace")
            raw = message.value()
            try:
                value = None if raw is None else self.decode(key, raw)
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                log.warning("unreadable changelog record skipped", extra={
                    "topic": self.topic, "key": key, "offset": message.offset(), "error": str(exc)})
                continue
            self.partition(message.partition())._load(key, value)
        if fresh:
            log.info("state restored", extra={"topic": self.topic, "partitions": fresh, "records": count})
        return count

    def revoke(self, partitions: list[int]) -> None:
        """Drops the partitions' state (its next owner restores it) and their unwritten changes (the inputs that
        caused them are read again by that owner)."""
        for p in partitions:
            self._partitions.pop(p, None)
        self._dirty.difference_update({d for d in self._dirty if d[0] in partitions})

    def changes(self) -> list[Output]:
        """The changelog records of every key written since the last call (a tombstone for a deleted one)."""
        outputs = []
        for partition, key in sorted(self._dirty):
            state = self._partitions.get(partition)
            if state is None:
                continue
            value = state.get(key)
            outputs.append(Output(self.topic, key, "", None if value is None else self.encode(value),
                                  partition=partition))
        self._dirty.clear()
        return outputs


def check_changelog(kafka: KafkaSettings, changelog: str, inputs: Sequence[str]) -> None:
    """Fails fast (MissingTopicError, saying what to do) when the changelog is missing or has fewer partitions than
    an input topic: each state record goes to its input's partition."""
    have = len(topic_partitions(kafka, changelog))
    for topic in inputs:
        need = len(topic_partitions(kafka, topic))
        if have < need:
            raise MissingTopicError(f"changelog {changelog} has {have} partitions, input {topic} has {need}: "
                                    f"recreate it with {need} (make topics / cxpulse topics create)")
