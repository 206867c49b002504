import sys
from collections import OrderedDict, defaultdict
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from cxpulse_core import memory, metrics
from cxpulse_core.memory import MemoryRelease, compacted


def test_memory_is_released_only_after_enough_entries_went_and_not_too_often():
    release = MemoryRelease(min_items=100, min_interval_s=0)
    assert not release.note(99)
    assert release.note(1)  # 100 freed: collect + trim
    assert not release.note(50)
    slow = MemoryRelease(min_items=1, min_interval_s=3600)
    assert not slow.note(10_000)  # too soon after the last (construction counts as one)


def test_expired_entries_and_releases_are_counted_per_state():
    def value(name: str) -> float:
        return REGISTRY.get_sample_value(name, {"service": metrics.process_service(), "state": "test-state"}) or 0.0

    expired, released = value("cxpulse_state_expired_total"), value("cxpulse_memory_releases_total")
    release = MemoryRelease("test-state", min_items=10, min_interval_s=0)
    release.note(4)
    release.note(0)
    release.note(6)
    assert value("cxpulse_state_expired_total") - expired == 10
    assert value("cxpulse_memory_releases_total") - released == 1


def test_a_sweeps_tail_is_released_later_and_compact_runs_first():
    now = [0.0]
    calls: list[str] = []
    release = MemoryRelease(min_items=1000, min_interval_s=10, tail_interval_s=20, clock=lambda: now[0])
    now[0] = 15
    assert not release.note(300, lambda: calls.append("compact"))  # a tail: waits for tail_interval_s
    assert not release.note(0)
    now[0] = 21
    assert release.note(0, lambda: calls.append("compact"))  # a later sweep that freed nothing releases it
    assert calls == ["compact"] and release.releases == 1
    now[0] = 100
    assert not release.note(0, lambda: calls.append("compact"))  # nothing pending: nothing to do
    assert calls == ["compact"]


def test_compacted_maps_are_smaller_and_keep_order_and_factory():
    plain = {f"contact-{i}": i for i in range(20_000)}
    ordered = OrderedDict(plain)
    counts: defaultdict[str, list[int]] = defaultdict(list, {k: [v] for k, v in plain.items()})
    full = (sys.getsizeof(plain), sys.getsizeof(ordered), sys.getsizeof(counts))
    for i in range(19_900):
        key = f"contact-{i}"
        del plain[key], ordered[key], counts[key]
    left = (sys.getsizeof(plain), sys.getsizeof(ordered), sys.getsizeof(counts))
    assert left[0] == full[0] and left[2] == full[2]  # a dict's table never shrinks on delete
    small = compacted(plain), compacted(ordered), compacted(counts)
    assert all(sys.getsizeof(s) * 20 < size for s, size in zip(small, left, strict=True))
    assert small[0] == plain and list(small[1]) == list(ordered) and type(small[1]) is OrderedDict
    assert small[2].default_factory is list and small[2]["new"] == []


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(memory._TRIM is None or not Path("/proc/self/status").exists(), reason="needs glibc and /proc")
def test_malloc_trim_gives_freed_heap_back_to_the_os():
    # 4 KB blocks come from glibc's heap (not pymalloc, not mmap); the last one kept stops glibc's own trimming of
    # the heap top, as long-lived objects allocated after a burst of state do in a service.
    blocks = [bytearray(4000) for _ in range(12_000)]
    keep = blocks[-1]
    grown = _rss_kb()
    del blocks
    freed = _rss_kb()
    assert memory.malloc_trim()
    trimmed = _rss_kb()
    assert grown - freed < 10_000 < freed - trimmed  # the ~47 MB stayed mapped until the trim, then went back
    assert len(keep) == 4000


def test_shared_gives_one_object_per_distinct_value_and_starts_over_past_its_limit():
    from cxpulse_core.memory import Shared

    shared = Shared(limit=2)
    first = shared("".join(["hi", "gh"]))
    assert shared("".join(["h", "igh"])) is first
    assert shared(("a", None)) == ("a", None)
    third = "".join(["lo", "w"])
    assert shared(third) is third  # the limit was reached: it started over with this value
    assert shared("".join(["hi", "gh"])) is not first
