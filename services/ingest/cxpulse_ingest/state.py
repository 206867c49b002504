"""Stream state: a bounded duplicate window and per-contact ordering/turn numbering.

Both are plain dicts in insertion order (O(1) per event, bounded memory). The contact id is the Kafka key, so all
events of a contact reach the same partition and the same consumer. Each contact's state (with the ids of its
recent events) is also written to a compacted changelog in the same transaction as the outputs (see
handler.py): `changes()` hands over what changed, tombstones (None) included, and `load()` puts a restored contact
back, so a restart or a rebalance neither renumbers a contact nor lets a duplicate through nor loses its context.

A contact is forgotten `forget_after_ms` after it ended, `idle_ttl_ms` after its last event when it never ends,
and least recently used beyond `max_contacts`; each of these leaves a tombstone."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from cxpulse_core.memory import compacted

from .raw_event import Rejected


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

    def compact(self) -> None:
        """Re-sizes the map after many ids expired (a dict's table never shrinks on delete)."""
        self._seen_at = compacted(self._seen_at)

    def _expire(self, now_ms: int) -> None:
        entries = self._seen_at
        while entries:
            oldest_id, oldest_at = next(iter(entries.items()))
            if now_ms - oldest_at <= self.ttl_ms:
                return
            del entries[oldest_id]


RECENT_IDS = 64  # event ids kept per contact for dedup after a restart (a source's retries come soon after)


@dataclass(slots=True)
class ContactState:
    last_sequence: int = -1
    last_time_ms: int | None = None
    turns: int = 0
    started_ms: int | None = None
    ended_at_ms: int | None = None  # by `now`, for forgetting
    context: dict[str, str | None] = field(default_factory=dict)  # from contact_started, fills later gaps
    touched_ms: int = 0  # `now` of its last accepted event, for the idle TTL
    recent_ids: list[str] = field(default_factory=list)  # its last RECENT_IDS accepted event ids

    def remember(self, event_id: str) -> None:
        self.recent_ids.append(event_id)
        if len(self.recent_ids) > RECENT_IDS:
            del self.recent_ids[0]

    def to_json(self) -> dict[str, Any]:
        return {"q": self.last_sequence, "l": self.last_time_ms, "n": self.turns, "s": self.started_ms,
                "e": self.ended_at_ms, "c": self.context, "t": self.touched_ms, "i": self.recent_ids}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContactState:
        return cls(int(data["q"]), data["l"], int(data["n"]), data["s"], data["e"], dict(data["c"]), int(data["t"]),
                   list(data["i"]))


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
    (so a late straggler starts a fresh, unordered history), `idle_ttl_ms` after its last event (contacts that
    never send contact_ended; see expire()), and least recently used contacts are evicted beyond `max_contacts`."""

    def __init__(self, max_contacts: int, tolerance_ms: int, forget_after_ms: int,
                 idle_ttl_ms: int = 4 * 3_600_000) -> None:
        self.max_contacts = max_contacts
        self.tolerance_ms = tolerance_ms
        self.forget_after_ms = forget_after_ms
        self.idle_ttl_ms = idle_ttl_ms
        self._contacts: OrderedDict[str, ContactState] = OrderedDict()  # least recently touched first
        self._ended: OrderedDict[str, int] = OrderedDict()  # ended contacts by end time, for forgetting
        self._changed: dict[str, ContactState | None] = {}  # since the last changes(); None = forgotten
        self.evicted = 0
        self.expired = 0

    def __len__(self) -> int:
        return len(self._contacts)

    def get(self, contact_id: str) -> ContactState | None:
        return self._contacts.get(contact_id)

    def admit(self, contact_id: str, event_type: str, sequence: int | None, event_time_ms: int,
              now_ms: int) -> Admitted:
        state = self._contacts.get(contact_id)
        if state is not None and state.ended_at_ms is not None and now_ms - state.ended_at_ms > self.forget_after_ms:
            self._drop(contact_id)
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
            self._ended[contact_id] = now_ms
        state.touched_ms = now_ms
        self._put(contact_id, state)
        if len(self._contacts) > self.max_contacts:
            self._drop(next(iter(self._contacts)))
            self.evicted += 1

    def _put(self, contact_id: str, state: ContactState) -> None:
        contacts = self._contacts
        contacts[contact_id] = state
        contacts.move_to_end(contact_id)
        self._changed[contact_id] = state

    def _drop(self, contact_id: str) -> None:
        self._contacts.pop(contact_id, None)
        self._ended.pop(contact_id, None)
        self._changed[contact_id] = None

    def expire(self, now_ms: int) -> int:
        """Forgets the contacts past their TTL (ended ones `forget_after_ms` after the end, the others
        `idle_ttl_ms` after their last event); O(number forgotten). Returns how many."""
        gone = 0
        while self._ended:
            contact_id, ended_at = next(iter(self._ended.items()))
            if now_ms - ended_at <= self.forget_after_ms:
                break
            self._drop(contact_id)
            gone += 1
        while self._contacts:
            contact_id, state = next(iter(self._contacts.items()))
            if now_ms - state.touched_ms <= self.idle_ttl_ms:
                break
            self._drop(contact_id)
            gone += 1
        self.expired += gone
        return gone

    def compact(self) -> None:
        """Re-sizes the maps after many contacts expired (a dict's table never shrinks on delete)."""
        self._contacts, self._ended = compacted(self._contacts), compacted(self._ended)

    def changes(self) -> dict[str, ContactState | None]:
        """The contacts changed since the last call: their state, or None for one forgotten (a tombstone)."""
        changed, self._changed = self._changed, {}
        return changed

    def load(self, contact_id: str, state: ContactState | None) -> None:
        """A contact restored from the changelog (None: its tombstone). Not reported by changes(). Call
        restored() after the last one."""
        self._contacts.pop(contact_id, None)
        self._ended.pop(contact_id, None)
        if state is not None:
            self._contacts[contact_id] = state
            if state.ended_at_ms is not None:
                self._ended[contact_id] = state.ended_at_ms

    def restored(self) -> None:
        """Restores come in changelog order: put the contacts back in touch order, which expire() relies on."""
        self._contacts = OrderedDict(sorted(self._contacts.items(), key=lambda item: item[1].touched_ms))
        self._ended = OrderedDict(sorted(self._ended.items(), key=lambda item: item[1]))

    def forget(self, contact_ids: list[str]) -> None:
        """Drops contacts without tombstones (their partition went to another consumer, which restores them)."""
        for contact_id in contact_ids:
            self._contacts.pop(contact_id, None)
            self._ended.pop(contact_id, None)
            self._changed.pop(contact_id, None)
