"""Core's per-partition changelog-backed state, as logic: restore from changelog records, get/set/delete, one
changelog record per changed key on its own partition, revoke drops a partition. (The restore from a real broker
and a restart on existing state: tests/integration/test_sentiment.py and test_notification.py.)"""

from __future__ import annotations

import json
from types import SimpleNamespace

from cxpulse_core.state import ChangelogState


def record(partition: int, key: str, value: object | None, offset: int = 0) -> SimpleNamespace:
    raw = None if value is None else json.dumps(value).encode()
    return SimpleNamespace(partition=lambda: partition, key=lambda: key.encode(), value=lambda: raw,
                           offset=lambda: offset)


def store(log: list[SimpleNamespace]) -> tuple[ChangelogState, list[list[int]]]:
    reads: list[list[int]] = []

    def read(topic: str, partitions: list[int]):
        assert topic == "changelog"
        reads.append(partitions)
        return [r for r in log if r.partition() in partitions]

    return ChangelogState("changelog", None, read=read), reads


def test_assign_restores_the_last_value_of_each_key_and_tombstones_remove_it():
    state, reads = store([record(0, "a", {"n": 1}), record(0, "a", {"n": 2}), record(1, "b", {"n": 3}),
                          record(1, "b", None), record(2, "c", {"n": 9})])
    assert state.assign([0, 1]) == 4 and reads == [[0, 1]]
    assert state.partition(0).get("a") == {"n": 2} and not state.partition(1).exists("b")
    assert "c" not in state.partition(2)  # partition 2 was not assigned, so not read
    assert state.assign([0, 1]) == 0 and reads[-1] == []  # held partitions are not read again
    assert state.changes() == []  # restoring writes nothing


def test_changes_give_one_record_per_key_on_its_partition_and_a_tombstone_for_a_delete():
    state, _ = store([record(3, "gone", {"n": 1})])
    state.assign([3, 4])
    p3, p4 = state.partition(3), state.partition(4)
    p3.set("x", {"n": 1})
    p3.set("x", {"n": 2})
    p4.set("y", {"n": 5})
    p3.delete("gone")
    p4.delete("never-there")  # nothing to tombstone
    out = {(o.partition, o.key): o.value for o in state.changes()}
    assert out == {(3, "x"): b'{"n":2}', (4, "y"): b'{"n":5}', (3, "gone"): None}
    assert all(o.topic == "changelog" and o.schema == "" for o in state.changes()) and state.changes() == []
    p4.set("z", {"n": 1})
    p4.delete("z")  # set and deleted within one batch: still a tombstone (an earlier batch may have written it)
    assert [(o.key, o.value) for o in state.changes()] == [("z", None)]


def test_revoke_drops_the_partition_and_its_unwritten_changes():
    state, _ = store([record(0, "a", {"n": 1}), record(1, "b", {"n": 2})])
    state.assign([0, 1])
    state.partition(0).set("a2", {"n": 3})
    state.partition(1).set("b2", {"n": 4})
    state.revoke([0])
    assert state.partitions == [1] and not state.partition(0).exists("a")
    assert [(o.partition, o.key) for o in state.changes()] == [(1, "b2")]


def test_an_unreadable_record_is_skipped_and_the_rest_restored():
    bad = SimpleNamespace(partition=lambda: 0, key=lambda: b"bad", value=lambda: b"{not json", offset=lambda: 7)
    state, _ = store([bad, record(0, "good", {"n": 1})])
    assert state.assign([0]) == 2 and dict(state.partition(0).items()) == {"good": {"n": 1}}


def test_custom_codecs_keep_live_objects_in_memory():
    class Counter:
        def __init__(self, n: int) -> None:
            self.n = n

    state = ChangelogState("changelog", None, encode=lambda c: str(c.n).encode(),
                           decode=lambda _key, raw: Counter(int(raw)),
                           read=lambda _t, _p: [SimpleNamespace(partition=lambda: 0, key=lambda: b"k",
                                                                value=lambda: b"41", offset=lambda: 0)])
    state.assign([0])
    counter = state.partition(0).get("k")
    counter.n += 1
    state.partition(0).set("k", counter)  # marks the object changed in place
    assert [o.value for o in state.changes()] == [b"42"]
