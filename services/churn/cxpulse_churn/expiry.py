"""A TTL for pending escalation stubs (history.mark_escalated): an escalation of a contact whose ContactSummary
never comes (the contact never ended, as the other services' per-contact TTLs assume) is dropped `ttl_s` after it
fired, from the account's history and, by a rewrite of the account's row, from the table's changelog.

Which accounts hold stubs, and the oldest stub's time, is indexed here so that a sweep does not walk every
account's history: the agent reports each account it changes (`note`), and the index is rebuilt from the table
whenever this worker's active partitions change (the first sweep after recovery, a rebalance)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cxpulse_core.memory import MemoryRelease, compacted

from .history import oldest_pending


class PendingExpiry:
    def __init__(self, ttl_s: float) -> None:
        self.ttl_ms = int(ttl_s * 1000)
        self.oldest: dict[str, int] = {}  # account -> time of its oldest pending stub (epoch ms)
        self.partitions: frozenset[int] | None = None  # the active partitions `oldest` was built for
        self.memory = MemoryRelease("pending_escalations")

    def cutoff(self, now_ms: int) -> int:
        return now_ms - self.ttl_ms

    def note(self, account: str, history: list[dict[str, Any]]) -> None:
        """After every change of an account's history."""
        oldest = oldest_pending(history)
        if oldest is None:
            self.oldest.pop(account, None)
        else:
            self.oldest[account] = oldest

    def due(self, table: Mapping[str, Any], active: frozenset[int], now_ms: int) -> list[str]:
        """Accounts of the active partitions holding a stub past the TTL; `table`: account -> AccountState."""
        if active != self.partitions:
            self.partitions = active
            self.oldest = {}
            for account, state in table.items():
                if state and state.get("partition") in active:
                    self.note(account, state["history"])
        cutoff = self.cutoff(now_ms)
        return [account for account, oldest in self.oldest.items() if oldest < cutoff]

    def release(self, dropped: int) -> None:
        """After every sweep (0 included): counts what went and gives the memory back once enough did."""
        self.memory.note(dropped, self._compact)

    def _compact(self) -> None:
        self.oldest = compacted(self.oldest)
