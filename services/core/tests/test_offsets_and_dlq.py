import pytest
from prometheus_client import REGISTRY

from cxpulse_core.dlq import DeadLetterLimitError, InvalidRatioLimit, Reject, deadletter_headers
from cxpulse_core.offsets import OffsetTracker


def test_offsets_advance_only_over_acknowledged_inputs():
    tracker = OffsetTracker()
    tp = ("t", 0)
    first = tracker.track(tp, 10, outputs=2)
    second = tracker.track(tp, 11, outputs=1)
    tracker.track(tp, 12, outputs=0)  # filtered out: nothing to wait for
    OffsetTracker.ack(second)
    assert tracker.committable() == {}  # 10 still waits for its outputs, so nothing after it may be stored
    OffsetTracker.ack(first)
    assert tracker.committable() == {}
    OffsetTracker.ack(first)
    assert tracker.committable() == {tp: 13}
    assert tracker.in_flight() == 0


def test_partitions_are_independent_and_forgettable():
    tracker = OffsetTracker()
    a = tracker.track(("t", 0), 5, 1)
    tracker.track(("t", 1), 7, 1)
    OffsetTracker.ack(a)
    assert tracker.committable() == {("t", 0): 6}
    tracker.forget([("t", 1)])
    assert tracker.in_flight() == 0


def test_invalid_ratio_limit_reports_a_flood_and_stops_only_when_asked():
    limit = InvalidRatioLimit(max_ratio=0.5, window=10, min_messages=4, service="t-flood")
    for invalid in [True, True, True]:  # fewer than min_messages: no verdict yet
        limit.record(invalid)
    assert not limit.flooding
    limit.record(False)
    assert limit.flooding and REGISTRY.get_sample_value("cxpulse_deadletter_flood", {"service": "t-flood"}) == 1
    limit.check()  # the default: keep going
    stopping = InvalidRatioLimit(max_ratio=0.5, window=10, min_messages=4, stop=True)
    for invalid in [True, True, True, False]:
        stopping.record(invalid)
    with pytest.raises(DeadLetterLimitError, match="3 of the last 4"):
        stopping.check()


def test_invalid_ratio_window_slides():
    limit = InvalidRatioLimit(max_ratio=0.5, window=4, min_messages=4, stop=True)
    for invalid in [True, True, False, False, False, False, True, True]:
        limit.record(invalid)  # never more than 2 of the last 4
        limit.check()


def test_deadletter_headers_carry_reason_and_position():
    headers = dict(deadletter_headers(Reject("missing_field", "contact_id is required"), "ingest", "raw", 2, 41,
                                      [("trace", b"x")]))
    assert headers["cxpulse.error.reason"] == b"missing_field"
    assert headers["cxpulse.error.message"] == b"contact_id is required"
    assert headers["cxpulse.error.source.offset"] == b"41"
    assert headers["trace"] == b"x"


def test_planted_error_headers_are_dropped_and_ours_come_first():
    planted = [("cxpulse.error.reason", b"all_good"), ("cxpulse.error.source.offset", b"0"), ("trace", b"x")]
    headers = deadletter_headers(Reject("invalid_json", "at char 3"), "ingest", "raw", 0, 7, planted)
    assert headers[0] == ("cxpulse.error.reason", b"invalid_json")
    assert [v for k, v in headers if k == "cxpulse.error.reason"] == [b"invalid_json"]
    assert [v for k, v in headers if k == "cxpulse.error.source.offset"] == [b"7"]
    assert ("trace", b"x") in headers
