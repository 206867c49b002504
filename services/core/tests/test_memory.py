from cxpulse_core.memory import MemoryRelease


def test_memory_is_released_only_after_enough_entries_went_and_not_too_often():
    release = MemoryRelease(min_items=100, min_interval_s=0)
    assert not release.note(99)
    assert release.note(1)  # 100 freed: collect + trim
    assert not release.note(50)
    slow = MemoryRelease(min_items=1, min_interval_s=3600)
    assert not slow.note(10_000)  # too soon after the last (construction counts as one)
