"""A transactional batch handles only records of partitions still assigned once it was read."""

from types import SimpleNamespace

from cxpulse_core.dlq import Reject
from cxpulse_core.loop import Incoming, _assigned_only


class Message(SimpleNamespace):
    def topic(self) -> str:
        return self.t

    def partition(self) -> int:
        return self.p


def test_records_of_a_partition_revoked_while_the_batch_was_read_are_left_to_the_new_owner():
    batch = [Message(t="in", p=p, o=o) for o, p in enumerate([0, 1, 0, 2, 1])]
    bad = Reject("decode_error", "not avro")
    # batch[3] did not decode: a rejection in its place, no Incoming; the others decoded in order
    incoming = ([None, None, None, bad, None], [Incoming(m, None) for m in batch if m.o != 3], [0, 1, 2, 4])
    kept, (results, decoded, positions) = _assigned_only(batch, incoming, {("in", 0), ("in", 2)})
    assert [m.o for m in kept] == [0, 2, 3]  # partition 1 was revoked
    assert results == [None, None, bad]
    assert [i.message.o for i in decoded] == [0, 2] and positions == [0, 1]
    assert [kept[p] for p in positions] == [i.message for i in decoded]


def test_a_batch_of_assigned_partitions_only_is_handed_on_as_it_is():
    batch = [Message(t="in", p=0, o=0)]
    incoming = ([None], [Incoming(batch[0], None)], [0])
    assert _assigned_only(batch, incoming, {("in", 0)}) == (batch, incoming)
