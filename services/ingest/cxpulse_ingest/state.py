"""Per-process stream state: a bounded duplicate window and per-contact ordering/turn numbering.

Both are plain dicts in insertion order (O(1) per event, bounded memory). They live in one process: the
contact id is the Kafka key, so all events of a contact reach the same partition and the same consumer.
After a rebalance the new owner starts empty; ids seen before are then not recognised (at-least-once)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from .model import Rejected


class DedupWindow:
    """Remembers event ids for `ttl_ms` (by the `now` passed in), at most `max_ids` of them (oldest go first)."""

    def __init__(self, max_ids: int, ttl_ms: int) -> None:
        if max_ids < 1 or ttl_ms < 1:
            raise ValueError("max_ids and ttl_ms must be positive")
        self.max_ids = max_ids
        self.ttl_ms = ttl_ms
        self._seen_at: OrderedDict[str, int] = OrderedDict()  # insertion order == time order

    def __len__(self) -> int:
        return len(self._seen_at)

    def contains(self, event_id: str, now_ms: int) -> bool:
        self._expire(now_ms)
        seen_at = self._seen_at.get(event_id)
        return seen_at is not None and now_ms - seen_at <= self.ttl_ms

    def add(self, event_id: str, now_ms: int) -> None:
        self._seen_at[event_id] = now_ms
        self._seen_at.move_to_end(event_id)
        if len(self._seen_at) > self.max_ids:
            self._seen_at.popitem(last=False)

    def seen(self, event_id: str, now_ms: int) -> bool:
        """True if event_id was seen within the window; otherwise records it and returns False."""
        if self.contains(event_id, now_ms):
            return True
        self.add(event_id, now_ms)
        return False

    def _expire(self, now_ms: int) -> None:
        entries = self._seen_at
        while entries:
            oldest_id, oldest_at = next(iter(entries.items()))
            if now_ms - oldest_at <= self.ttl_ms:
                return
            del entries[oldest_id]


@dataclass(slots=True)
class ContactState:
    last_sequence: int = -1
    last_time_ms: int | None = None
    turns: int = 0
    started_ms: int | None = None
    ended_at_ms: int | None = None  # by `now`, for forgetting
    context: dict[str, str | None] = field(default_factory=dict)  # from contact_started, fills later gaps


@dataclass(frozen=True, slots=True)
class Admitted:
    sequence: int
    turn: int  # 0 for non-utterances
    state: ContactState


class ContactOrder:
    """Accepts or rejects (`out_of_order`) each event of a contact and numbers sequences and turns.

    Rules: a given sequence must exceed the contact's last one; without a sequence the event time may be
    at most `tolerance_ms` older than the newest seen (the event is then given last sequence + 1); nothing
    but a duplicate may follow contact_ended. A contact is forgotten `forget_after_ms` after it ended
    (so a late straggler starts a fresh, unordered history), and least recently used contacts are evicted
    beyond `max_contacts` (contacts that never send contact_ended must not leak memory)."""

    def __init__(self, max_contacts: int, tolerance_ms: int, forget_after_ms: int) -> None:
        self.max_contacts = max_contacts
        self.tolerance_ms = tolerance_ms
        self.forget_after_ms = forget_after_ms
        self._contacts: OrderedDict[str, ContactState] = OrderedDict()
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._contacts)

    def get(self, contact_id: str) -> ContactState | None:
        return self._contacts.get(contact_id)

    def admit(self, contact_id: str, event_type: str, sequence: int | None, event_time_ms: int,
              now_ms: int) -> Admitted:
        state = self._contacts.get(contact_id)
        if state is not None and state.ended_at_ms is not None and now_ms - state.ended_at_ms > self.forget_after_ms:
            del self._contacts[contact_id]
            state = None
        if state is None:
            state = ContactState()
        elif state.ended_at_ms is not None:
            raise Rejected("out_of_order", "type", f"{event_type} after contact_ended")
        if sequence is not None:
            if sequence <= state.last_sequence:
                raise Rejected("out_of_order", "sequence", f"sequence {sequence} not above last {state.last_sequence}")
        elif state.last_time_ms is not None and event_time_ms < state.last_time_ms - self.tolerance_ms:
            raise Rejected("out_of_order", "timestamp",
                           f"{state.last_time_ms - event_time_ms} ms older than the newest event (tolerance "
                           f"{self.tolerance_ms} ms)")
        self._commit(contact_id, state, event_type, sequence, event_time_ms, now_ms)
        return Admitted(state.last_sequence, state.turns if event_type == "utterance" else 0, state)

    def _commit(self, contact_id: str, state: ContactState, event_type: str, sequence: int | None,
                event_time_ms: int, now_ms: int) -> None:
        state.last_sequence = sequence if sequence is not None else state.last_sequence + 1
        if state.last_time_ms is None or event_time_ms > state.last_time_ms:
            state.last_time_ms = event_time_ms
        if event_type == "utterance":
            state.turns += 1
        elif event_type == "contact_started":
            state.started_ms = event_time_ms
        else:
            state.ended_at_ms = now_ms
        contacts = self._contacts
        contacts[contact_id] = state
        contacts.move_to_end(contact_id)
        if len(contacts) > self.max_contacts:
            contacts.popitem(last=False)
            self.evicted += 1
