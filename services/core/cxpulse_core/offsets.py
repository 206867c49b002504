"""At-least-once bookkeeping: an input offset may be stored only when every output it caused is acknowledged
by the broker, and only after every earlier offset of its partition is too."""

from __future__ import annotations

from collections import deque

TopicPartition = tuple[str, int]


class OffsetTracker:
    def __init__(self) -> None:
        # Per partition, inputs in consumption order: [offset, outputs not yet acknowledged].
        self._pending: dict[TopicPartition, deque[list[int]]] = {}

    def track(self, tp: TopicPartition, offset: int, outputs: int) -> list[int]:
        """Registers an input with `outputs` outputs in flight; returns the handle its acks decrement."""
        entry = [offset, outputs]
        self._pending.setdefault(tp, deque()).append(entry)
        return entry

    @staticmethod
    def ack(entry: list[int]) -> None:
        entry[1] -= 1

    def committable(self) -> dict[TopicPartition, int]:
        """Next offset to commit per partition whose head advanced; consumes the finished heads."""
        advanced: dict[TopicPartition, int] = {}
        for tp, queue in self._pending.items():
            while queue and queue[0][1] <= 0:
                advanced[tp] = queue.popleft()[0] + 1
        return advanced

    def in_flight(self) -> int:
        return sum(len(queue) for queue in self._pending.values())

    def forget(self, partitions: list[TopicPartition]) -> None:
        """Drops partitions revoked in a rebalance; their unacknowledged inputs will be read again."""
        for tp in partitions:
            self._pending.pop(tp, None)
