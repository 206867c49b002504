"""What the faust services (churn, routing) share besides the codec and the agent runtime (faust_agent.py): the
app's common settings (`make_app`), reading committed data only, tables co-partitioned with their source topic
(`copartition`), running the worker (`run_worker`), cxpulse_consumer_lag, and readiness (tables recovered,
partitions held).

faust-streaming 0.15's worker consumer reads uncommitted data unless faust itself runs transactions, so records
of sentiment's aborted transactions reached churn and routing. aiokafka takes the isolation level when the
consumer starts, so it is set on the consumer faust builds before that (patched once per process).

Offsets are committed by faust's own bookkeeping (acked offsets in a row, with the gaps it noticed), after it
flushed the producer. Its fetch loop lost records after a (re)start under traffic; `faust_fetch` replaces it
(`patch_consumer` installs both fixes). The services also make a replay harmless: each records its progress
(turn, contact) only after its outputs were acknowledged, and skips what its state shows as done.
"""

from __future__ import annotations

import contextlib
import logging
import signal
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from . import faust_fetch, metrics
from .changelog import MissingTopicError, topic_partitions
from .faust_broker import broker_urls, credentials
from .health import Health
from .runner import exit_after
from .settings import KafkaSettings, RuntimeSettings
from .topics import TopicSpec, create_topics

log = logging.getLogger(__name__)

_patched = False


def patch_consumer() -> None:
    """What every faust service of cxpulse needs before it builds its app: committed data only, no lost records."""
    read_committed()
    faust_fetch.install()


def read_committed() -> None:
    global _patched
    if _patched:
        return
    _patched = True
    create = faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer

    def _create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = create(self, transport)
        consumer._isolation_level = "read_committed"  # read by AIOKafkaConsumer.start() to build its fetcher
        return consumer

    faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer


def recovered(app: faust.App) -> bool:
    """Partitions assigned, no rebalance running, every table restored from its changelog."""
    return (app.tables.recovery.completed.is_set() and not app.rebalancing
            and bool(app.consumer.assignment()))


class LagReporter:
    """cxpulse_consumer_lag for a faust app's input partitions: the partition's end minus the offset the group
    committed (what an external lag monitor computes), kept only for partitions this worker holds."""

    def __init__(self, app: faust.App, service: str) -> None:
        self.app, self.service = app, service
        self._reported: set[tuple[str, int]] = set()

    def report(self) -> None:
        consumer = self.app.consumer
        changelogs = set(self.app.tables.changelog_topics)
        group = self.app.conf.id
        now: set[tuple[str, int]] = set()
        for tp in consumer.assignment():
            if tp.topic in changelogs:
                continue
            committed = consumer._committed_offset.get(tp)
            try:
                high = consumer.highwater(tp)
            except Exception:  # noqa: BLE001 - not fetched yet (just assigned): nothing to report
                continue
            if committed is None or high is None or high < 0:
                continue
            metrics.CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition), group).set(
                max(0, high - committed))
            now.add((tp.topic, tp.partition))
        for topic, partition in self._reported - now:
            with contextlib.suppress(KeyError):
                metrics.CONSUMER_LAG.remove(self.service, topic, str(partition), group)
        self._reported = now


def make_app(service: str, app_id: str, kafka: KafkaSettings, runtime: RuntimeSettings, *,
             session_timeout_s: float, commit_interval_s: float, **options: Any) -> faust.App:
    """A faust app with what every cxpulse faust service runs with: the consumer fixes (`patch_consumer`), the
    KAFKA_* connection, reading from the earliest offset, acks=all, the group timing, and static group membership;
    `options` add to them.

    Static membership (group.instance.id = app id + CXPULSE_INSTANCE_ID): a restarted worker, killed or not, takes
    its predecessor's place and partitions at once, instead of a rebalance now and another when the dead member's
    session expires (a session timeout's worth of idle partitions and not-ready). It needs an instance id that is
    stable per replica and unique within the group: the pod name of a StatefulSet, the host name by default."""
    patch_consumer()  # sentiment's aborted transactions stay invisible; no record lost after a restart
    return faust.App(
        app_id, broker=broker_urls(kafka), broker_credentials=credentials(kafka),
        broker_client_id=kafka.for_client(service, runtime.instance_id).client_id, web_enabled=False,
        consumer_auto_offset_reset="earliest", producer_acks=-1,
        broker_session_timeout=session_timeout_s, broker_heartbeat_interval=min(3.0, session_timeout_s / 3),
        broker_commit_interval=commit_interval_s,
        consumer_group_instance_id=f"{app_id}-{runtime.instance_id}", **options)


def copartition(table: Any, kafka: KafkaSettings, source_topic: str) -> int:
    """Gives `table` (and its changelog) the partition count of the existing `source_topic`, which faust requires of
    a table written by an agent on that topic, and creates the changelog topic now if it is missing. Called at
    start, before the worker runs, so that importing the app module asks the broker nothing.

    Why create it here: left to faust, the changelog is declared while the consumer joins; a consumer whose
    metadata was taken before the topic existed sees it with 0 partitions, and faust then refuses every table
    write of the first records (PartitionsMismatch, which the agent runtime dead-letters) until the metadata is
    refreshed. An existing changelog with another partition count is a clear error at start instead."""
    partitions = len(topic_partitions(kafka, source_topic))
    table.partitions = partitions
    changelog = table.changelog_topic
    changelog.partitions = partitions
    name = changelog.get_topic_name()
    spec = TopicSpec(name, "string", (), "faust table changelog", partitions,
                     int(table.app.conf.topic_replication_factor), -1, cleanup_policy="compact")
    if create_topics(kafka, [spec])[name] == "exists":
        have = len(topic_partitions(kafka, name))
        if have != partitions:
            raise MissingTopicError(f"{name} has {have} partitions, its source {source_topic} {partitions}: delete "
                                    "the changelog (the table is rebuilt from its inputs) or give both as many")
    return partitions


class _BoundedWorker(faust.Worker):
    """faust's worker, with a graceful stop bounded like the stream loop's (runner.exit_after): its stop waits on
    the agents, the producer's flush, the commit and the group leave, each of which can wait for a broker that is
    not answering."""

    shutdown_timeout_s = 25.0

    def _schedule_shutdown(self, signal: signal.Signals) -> None:
        exit_after(self.shutdown_timeout_s)
        super()._schedule_shutdown(signal)


def run_worker(app: faust.App, health: Health, log_level: str, shutdown_timeout_s: float = 25.0) -> int:
    """Runs the faust worker until SIGTERM/SIGINT (exit 0; a stop longer than `shutdown_timeout_s` ends the process
    at once, exit 0) or a fatal error (exit 1). Logging stays as configure_logging set it (once, at start)."""
    worker = _BoundedWorker(app, loglevel=log_level, override_logging=False, redirect_stdouts=False, quiet=True)
    worker.shutdown_timeout_s = shutdown_timeout_s
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception:
        log.exception("fatal error")
        code = 1
    else:
        code = 0
    return 1 if health.fatal else code
