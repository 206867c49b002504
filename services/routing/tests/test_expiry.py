"""The contacts table's TTL, as logic: a stand-in for the faust table records what would go to the changelog."""

from __future__ import annotations

from cxpulse_routing.expiry import ContactExpiry


class Table:
    def __init__(self, data: dict) -> None:
        self.data = data
        self.changelog: list[tuple[int, str, object]] = []

    def send_changelog(self, partition, key, value, value_serializer=None):
        assert value_serializer == "raw"  # a real tombstone, not JSON null
        self.changelog.append((partition, key, value))


def test_idle_contacts_are_dropped_with_a_tombstone_on_their_partition():
    clock = [1000.0]
    table = Table({"seen": {}, "restored": {}})
    expiry = ContactExpiry(table, partitions=3, ttl_s=60, clock=lambda: clock[0])
    expiry.touch("seen", 2)
    assert expiry.expire() == 0 and set(expiry.seen) == {"seen", "restored"}  # restored: counted from now
    clock[0] = 1030.0
    table.data["fresh"] = {}
    expiry.touch("fresh", 1)
    clock[0] = 1061.0
    assert expiry.expire() == 2
    assert sorted(table.changelog) == sorted([(2, "seen", None), (expiry.partition_for("restored"), "restored", None)])
    assert set(table.data) == {"fresh"}
    del table.data["fresh"]  # its summary came: nothing left to expire
    assert expiry.expire() == 0 and expiry.seen == {}


def test_the_fallback_partition_is_the_java_partitioner_s():
    # Kafka's own murmur2 test vectors (clients UtilsTest.testMurmur2), then Utils.toPositive(hash) % partitions,
    # as Java clients and librdkafka's murmur2_random (the upstream producer) place keys.
    java = {"21": -973932308, "foobar": -790332482, "a-little-bit-long-string": -985981536, "abc": 479470107}
    expiry = ContactExpiry(Table({}), partitions=7, ttl_s=1)
    assert {k: expiry.partition_for(k) for k in java} == {k: (h & 0x7FFFFFFF) % 7 for k, h in java.items()}

    # Not given: the table's own partition count, which it gets when the worker starts (after this was built).
    table = Table({})
    table.partitions = None
    expiry = ContactExpiry(table, ttl_s=1)
    table.partitions = 7
    assert {k: expiry.partition_for(k) for k in java} == {k: (h & 0x7FFFFFFF) % 7 for k, h in java.items()}


class Store:
    """Like faust's memory store: a mapping over a plain dict held in `.data`."""

    def __init__(self, data: dict) -> None:
        self.data = data

    def keys(self):
        return self.data.keys()

    def pop(self, key, default=None):
        return self.data.pop(key, default)


def test_a_mass_expiry_shrinks_the_store_and_the_seen_map():
    import sys

    from cxpulse_core.memory import MemoryRelease

    clock = [0.0]
    table = Table(Store({f"c-{i}": {} for i in range(5_000)}))
    expiry = ContactExpiry(table, partitions=3, ttl_s=60, clock=lambda: clock[0])
    expiry.memory = MemoryRelease(min_items=1, min_interval_s=0)
    assert expiry.expire() == 0
    full = sys.getsizeof(table.data.data), sys.getsizeof(expiry.seen)
    clock[0] = 30.0
    table.data.data["kept"] = {}
    expiry.touch("kept", 1)
    clock[0] = 61.0
    assert expiry.expire() == 5_000 and expiry.memory.releases == 1 and len(table.changelog) == 5_000
    assert table.data.data == {"kept": {}} and set(expiry.seen) == {"kept"}
    assert sys.getsizeof(table.data.data) * 20 < full[0] and sys.getsizeof(expiry.seen) * 20 < full[1]
    clock[0] = 91.0
    assert expiry.expire() == 1 and table.data.data == {}


def test_the_store_compacted_is_faust_s_own_memory_store():
    import faust

    from cxpulse_core.memory import MemoryRelease

    app = faust.App("expiry-test", store="memory://", broker="kafka://127.0.0.1:1")  # never connects
    store = app.Table("contacts", default=None, partitions=3).data
    for i in range(2_000):
        store[f"c-{i}"] = {"turn": i}
    table = Table(store)
    clock = [0.0]
    expiry = ContactExpiry(table, partitions=3, ttl_s=60, clock=lambda: clock[0])
    expiry.memory = MemoryRelease(min_items=1, min_interval_s=0)
    expiry.expire()
    inner = store.data
    clock[0] = 30.0
    store["kept"] = {"turn": 1}
    expiry.touch("kept", 0)
    clock[0] = 61.0
    assert expiry.expire() == 2_000 and expiry.memory.releases == 1
    assert store.data is not inner and type(store.data) is dict and dict(store.items()) == {"kept": {"turn": 1}}
