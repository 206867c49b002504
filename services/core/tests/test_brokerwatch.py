"""core.brokerwatch: readiness follows whether the cluster answers, and close() ends the watch's client and thread
at once, also in the middle of a request (atexit calls it: librdkafka's threads must not call into Python while it
finalizes). A real client against an address where no broker listens."""

from __future__ import annotations

import time

from cxpulse_core.brokerwatch import BrokerWatch
from cxpulse_core.health import Health
from cxpulse_core.settings import KafkaSettings

NOWHERE = KafkaSettings(bootstrap_servers="127.0.0.1:1")


def test_a_cluster_that_does_not_answer_is_unreachable() -> None:
    watch = BrokerWatch(NOWHERE, Health(60.0), "test", timeout_s=0.5)
    try:
        assert watch.check() is False
    finally:
        watch.close()


def test_close_destroys_the_client_and_ends_the_thread_in_the_middle_of_a_request() -> None:
    health = Health(60.0)
    watch = BrokerWatch(NOWHERE, health, "test", timeout_s=600.0).start()
    time.sleep(0.5)  # the thread is waiting on its first request, which would time out after 600 s
    watch.close()
    assert watch.admin is None
    assert not watch._thread.is_alive()
    assert watch.check() is False
    assert health.broker_reachable  # a closing watch does not report the cluster gone
