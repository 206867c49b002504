"""create_topics returns only once the brokers serve what it created (a fake admin client: pure logic)."""

from __future__ import annotations

from concurrent.futures import Future
from types import SimpleNamespace

import pytest

from cxpulse_core import topics
from cxpulse_core.settings import KafkaSettings

SPEC = topics.TopicSpec(name="cx.example", key="string", value_schemas=(), doc="", partitions=1, replication_factor=1,
                        retention_ms=60_000)


class LaggingAdmin:
    """Creates at once; its metadata shows the topic only on the third look, with a leader on the fourth."""

    def __init__(self, *_: object) -> None:
        self.looks = 0

    def create_topics(self, new: list, **_: object) -> dict[str, Future]:
        self.names = [t.topic for t in new]
        done: Future = Future()
        done.set_result(None)
        return {name: done for name in self.names}

    def list_topics(self, timeout: float) -> SimpleNamespace:
        self.looks += 1
        leader = 1 if self.looks >= 4 else -1
        served = {n: SimpleNamespace(error=None, partitions={0: SimpleNamespace(leader=leader)}) for n in self.names}
        return SimpleNamespace(topics=served if self.looks >= 3 else {})


def test_create_topics_waits_until_every_created_partition_has_a_leader(monkeypatch):
    admin = LaggingAdmin()
    monkeypatch.setattr(topics, "AdminClient", lambda *_: admin)
    spec = SPEC
    assert topics.create_topics(KafkaSettings(), [spec], "t.") == {"t.cx.example": "created"}
    assert admin.looks == 4


def test_create_topics_names_the_topics_never_served(monkeypatch):
    admin = LaggingAdmin()
    admin.list_topics = lambda timeout: SimpleNamespace(topics={})  # type: ignore[method-assign]
    monkeypatch.setattr(topics, "AdminClient", lambda *_: admin)
    spec = SPEC
    with pytest.raises(TimeoutError, match=r"t\.cx\.example"):
        topics.create_topics(KafkaSettings(), [spec], "t.", timeout_s=0.3)
