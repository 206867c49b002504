"""Ingest killed (-9) under traffic on existing state and restarted: its per-contact state comes back from
cx.ingest.contact-state, so nothing is lost, nothing duplicated, no contact renumbered, no context dropped."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime

import pytest

from cxpulse_core import topics
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.testing.kafka import unique_name
from cxpulse_core.testing.process import EventTally, ServiceProcess, Traffic, read_topic, wait_until

pytestmark = pytest.mark.kafka
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC).timestamp()
TURNS = 16


def raw(contact: int, n: int) -> dict:
    """Event n of a contact, without a sequence: ingest numbers it (the numbering a restart must not redo);
    only contact_started carries the account id (which ingest then puts on every later event)."""
    stamp = datetime.fromtimestamp(T0 + contact + n, UTC).isoformat().replace("+00:00", "Z")
    base = {"event_id": f"r-{contact}-{n}", "contact_id": f"rc-{contact}", "timestamp": stamp}
    if n == 0:
        return base | {"type": "contact_started", "account_id": f"acct-{contact}", "agent_id": "ag-1",
                       "queue": "billing", "channel": "voice"}
    return base | {"type": "utterance", "speaker": "customer" if n % 2 else "agent", "text": f"turn {n} of it"}


def test_kill_9_under_traffic_on_existing_state_loses_duplicates_and_renumbers_nothing(
        kafka_settings, cx_runtime, tmp_path):
    contacts = 40  # contacts that never end: their state is what a restart must keep
    events = [raw(c, n) for n in range(TURNS + 1) for c in range(contacts)]  # interleaved, in order per contact
    records = [(e["contact_id"], json.dumps(e).encode()) for e in events]
    raw_topic, out_topic = cx_runtime.topic(topics.RAW_EVENTS), cx_runtime.topic(topics.INTERACTIONS)
    serde = SingleObjectSerde()
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers, "CXPULSE_TOPIC_PREFIX": cx_runtime.topic_prefix,
           "INGEST_GROUP_ID": unique_name("ingest"), "CXPULSE_LOG_LEVEL": "WARNING"}
    first_half = len(records) // 2
    with ServiceProcess("cxpulse_ingest", env, tmp_path / "ingest.log") as service:
        service.start()
        # Existing state: half the conversation in, then a kill -9 while the rest keeps arriving.
        with Traffic(kafka_settings, raw_topic, records[:first_half], rate=0) as before:
            before.wait()
        wait_until(lambda: len(read_topic(kafka_settings, out_topic)) >= first_half, "the first half ingested")
        with Traffic(kafka_settings, raw_topic, records[first_half:], rate=100) as traffic:
            wait_until(lambda: traffic.acked >= 100, "traffic flowing before the kill")
            ready_s = service.kill_and_restart()
            traffic.wait()
        # A source re-sending events already ingested before the kill: the restored dedup state drops them.
        replayed = records[first_half - contacts:first_half]
        with Traffic(kafka_settings, raw_topic, replayed, rate=0) as replay:  # same partitioner as the rest
            replay.wait()
        wait_until(lambda: len(EventTally.read(kafka_settings, out_topic, serde)) >= len(events),
                   "every event ingested after the restart", timeout_s=120)
        wait_until(lambda: service.metric("cxpulse_ingest_duplicates_total", service="ingest") == len(replayed),
                   "the replayed events counted as duplicates")
        assert service.stop() == 0
    tally = EventTally.read(kafka_settings, out_topic, serde)
    print(f"\ningest: kill -9 under traffic -> ready again in {ready_s:.1f} s; {len(tally)} events")
    assert tally.lost(e["event_id"] for e in events) == set() and tally.duplicated() == {}
    by_contact: dict[str, list[dict]] = defaultdict(list)
    for message in read_topic(kafka_settings, out_topic):
        value = serde.decode(message.value()).value
        by_contact[value["contact_id"]].append(value)
    for c in range(contacts):
        out = by_contact[f"rc-{c}"]
        assert [v["event_id"] for v in out] == [f"r-{c}-{n}" for n in range(TURNS + 1)]  # in order
        assert [v["sequence"] for v in out] == list(range(TURNS + 1))  # numbered once, never again from 0
        assert [v["turn"] for v in out[1:]] == list(range(1, TURNS + 1))
        assert {v["account_id"] for v in out} == {f"acct-{c}"}  # the context outlived the restart
