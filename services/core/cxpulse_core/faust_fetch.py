"""A fix for faust-streaming 0.15's fetch loop, which lost input records after a (re)start under traffic.

What happened (traced in routing's kill -9 under traffic test, 1-18 of 48 outputs missing in about 1 run of 3):
on assignment faust marks every assigned partition fetchable *before* it pauses the input partitions for table
recovery, so a batch of input records is often fetched at once. Its delivery then waits on the app's flow
control (suspended at start), and is released when recovery resumes the flow to read the changelogs; so input
records reached the agents while their tables were half restored, or sat in an agent's queue until the next
`FlowControlEvent.resume()`, which clears every queue. After `perform_seek` had set a partition's read offset back
to the committed one, the rest of that stale batch set it forward again, so the re-fetched records below it were
dropped as "already read" (`DROPPED MESSAGE ROFF`); the cleared ones were never read again. Either way the
records after them were processed and acknowledged, faust committed past the gap, and the outputs were gone.

The replacement loop (otherwise faust's own `Consumer._drain_messages`):
- delivers no record of a paused input partition (one being recovered): it seeks the partition back to that
  record, so it is fetched again, in order, once faust resumes the partition;
- advances a partition's read offset only for a record that was really handed over (not when a rebalance
  stopped the flow while it waited);
- waits on the flow control, and on a record's hand-over beside a stop of the flow, only when it must (the flow
  is suspended; the record's queue is full). faust waits so for every record, two extra tasks and an
  `asyncio.wait` each: that cost routing about a quarter of its throughput (20,000 updates at once, medians of 3
  runs: 2,135 records/s with it, 2,931 without);
and `FlowControlEvent.resume()` no longer clears the queues: a record handed over stays there until an agent takes
it. (On a revocation faust still clears them explicitly, drops the read offsets and, after the next assignment,
seeks to the committed offsets, as before.) A record may so be handed over twice (the services' state makes a
replay harmless), but none is skipped.

Committing past transaction markers (`commit_past_markers`): faust commits the offset after the last record it
acknowledged, but on a topic written in transactions (sentiment's) a commit marker follows the last record, so
the group's committed offset stayed one short of the partition's end for good (and a lag monitor showed lag on a
caught-up pipeline). The fetch loop notes, after each batch it handed over completely, the consumer's position
(which aiokafka moves past control batches and aborted records); when every record below it was acknowledged and
committed (the committed offset is the last record handed over plus one, or nothing was handed over since faust
sought to the committed offset) and no record of the partition is in flight, the position is committed: the
offsets in between hold no record.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

from faust.transport import consumer as faust_consumer
from mode.utils.queues import FlowControlEvent

_installed = False
_original_perform_seek = faust_consumer.Consumer.perform_seek
_original_seek = faust_consumer.Consumer.seek
_original_revoked = faust_consumer.Consumer.on_partitions_revoked


class _Marks:
    """Per input partition, what the fetch loop knows about the offsets below the consumer's position."""

    def __init__(self) -> None:
        self.fetched_to: dict[Any, int] = {}  # the position after the last batch handed over completely
        self.fresh: set[Any] = set()  # sought to the committed offset, no record seen since


def _marks(consumer: Any) -> _Marks:
    marks = consumer.__dict__.get("_cx_marks")
    if marks is None:
        marks = consumer._cx_marks = _Marks()
    return marks


def install() -> None:
    """Patches faust's consumer and flow control, once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    faust_consumer.Consumer._drain_messages = _drain_messages  # type: ignore[method-assign]
    faust_consumer.Consumer.perform_seek = _perform_seek  # type: ignore[method-assign]
    faust_consumer.Consumer.seek = _seek  # type: ignore[method-assign]
    faust_consumer.Consumer.on_partitions_revoked = _on_partitions_revoked  # type: ignore[method-assign]
    FlowControlEvent.resume = _resume  # type: ignore[method-assign]


def _resume(self: FlowControlEvent) -> None:
    """mode's resume, without clearing the managed queues (see the module docstring)."""
    self._suspend.clear()
    self._resume.set()


async def _perform_seek(self: Any) -> None:
    marks = _marks(self)
    marks.fetched_to.clear()
    # Before the seek: a record of a batch fetched before it that passes the loop meanwhile clears the mark.
    marks.fresh = set(self.assignment())
    await _original_perform_seek(self)


async def _seek(self: Any, partition: Any, offset: int) -> None:
    marks = _marks(self)
    marks.fetched_to.pop(partition, None)
    marks.fresh.discard(partition)
    await _original_seek(self, partition, offset)


async def _on_partitions_revoked(self: Any, revoked: set[Any]) -> None:
    marks = _marks(self)
    for tp in revoked:
        marks.fetched_to.pop(tp, None)
        marks.fresh.discard(tp)
    await _original_revoked(self, revoked)


def _position(consumer: Any, tp: Any) -> int | None:
    """aiokafka's position of `tp` (read from the loop's thread: only getmany, which this loop calls, and seeks
    move it)."""
    try:
        state = consumer._thread._ensure_consumer()._subscription.subscription.assignment.state_value(tp)
        return state.position if state.has_valid_position else None
    except Exception:  # noqa: BLE001 - not assigned (any more), not started: nothing to note
        return None


async def commit_past_markers(app: Any) -> None:
    """Commits, for each input partition whose every record below the consumer's position is acknowledged and
    committed, that position (see the module docstring). Called from a timer of the faust services."""
    consumer = app.consumer
    if app.rebalancing or not consumer.flow_active:
        return
    marks = _marks(consumer)
    assigned = consumer.assignment()
    in_flight = {message.tp for message in consumer._unacked_messages}
    offsets: dict[Any, int] = {}
    before: dict[Any, int] = {}
    for tp, position in list(marks.fetched_to.items()):
        committed = consumer._committed_offset.get(tp)
        if (tp not in assigned or tp in consumer._paused_partitions or committed is None or position <= committed
                or tp in in_flight or consumer._acked.get(tp)):
            continue
        if tp not in marks.fresh and consumer._read_offset.get(tp) != committed - 1:
            continue  # a record handed over is not committed yet
        offsets[tp], before[tp] = position, committed
    if not offsets:
        return
    try:
        done = await consumer._commit(offsets)
    except Exception as exc:  # noqa: BLE001 - a rebalance or the broker away: faust's next commit covers it
        consumer.log.info("commit past transaction markers failed: %r", exc)
        return
    if done:
        for tp, offset in offsets.items():
            if consumer._committed_offset.get(tp) == before[tp]:  # faust did not commit meanwhile
                consumer._committed_offset[tp] = offset


async def _drain_messages(self: Any, fetcher: Any) -> None:  # pragma: no cover - runs inside a faust worker
    callback = self.callback
    consumer_should_stop = self._stopped.is_set
    fetcher_should_stop = fetcher._stopped.is_set
    read_offset = self._read_offset
    acks_enabled_for = self.app.topics.acks_enabled_for
    flow_control = self.app.flow_control
    commit_every = self._commit_every
    marks = _marks(self)
    since_yield = 0
    try:
        while not (consumer_should_stop() or fetcher_should_stop()):
            self.diag.set_flag(faust_consumer.CONSUMER_FETCHING)
            batch = self.getmany(timeout=1.0)
            await self.sleep(0)  # getmany may return at once, again and again
            if not self.should_stop:
                held: set[Any] = set()  # partitions the rest of this batch is not delivered for
                complete, generation = False, self.app.consumer_generation_id
                async for tp, message in batch:
                    since_yield += 1
                    if since_yield > 100:
                        await asyncio.sleep(0)
                        since_yield = 0
                    if tp in held:
                        continue
                    marks.fresh.discard(tp)
                    offset = message.offset
                    r_offset = read_offset[tp]
                    if r_offset is not None and offset < r_offset:
                        continue  # read already (faust's duplicate check)
                    if offset - (r_offset or 0) > 1 and r_offset and acks_enabled_for(message.topic):
                        await self._add_gap(tp, r_offset + 1, offset)  # offsets without records (markers)
                    if commit_every is not None and self._n_acked >= commit_every:
                        self._n_acked = 0
                        await self.commit()
                    if not (flow_control.is_active() or self.suspend_flow.is_set()):
                        await self.wait_first(flow_control.acquire(), self.suspend_flow.wait())
                    if not self.flow_active:
                        break  # a rebalance stopped the flow: faust seeks to the committed offsets before resuming
                    if tp in self._paused_partitions and not self._is_changelog_tp(tp):
                        held.add(tp)  # fetched before faust paused it for recovery: fetch it again afterwards
                        with contextlib.suppress(Exception):  # revoked meanwhile: the next owner seeks anyway
                            await self.seek(tp, offset)
                        continue
                    delivery = asyncio.ensure_future(callback(message))
                    await asyncio.sleep(0)  # its first step: a record put in a queue with room is handed over
                    if not delivery.done():  # waits (a full queue): until handed over or the flow stops
                        await self.wait_first(delivery, self.suspend_flow.wait())
                    if not delivery.done() or delivery.cancelled():
                        break  # the flow stopped first: not handed over, and read again after the rebalance
                    delivery.result()
                    read_offset[tp] = offset
                else:
                    complete = True
                # faust's getmany ends a batch early, without a word, when the flow stops or the generation
                # changes, and leaves out records of partitions paused meanwhile: no position noted then.
                if complete and self.flow_active and generation == self.app.consumer_generation_id:
                    for tp in self.assignment():
                        if tp not in held and tp not in self._paused_partitions and not self._is_changelog_tp(tp):
                            position = _position(self, tp)
                            if position is not None:
                                marks.fetched_to[tp] = position
            self.diag.unset_flag(faust_consumer.CONSUMER_FETCHING)
    except self.consumer_stopped_errors:
        if self.transport.app.should_stop:
            self.log.info("Broker stopped consumer, shutting down...")
            return
        raise
    except asyncio.CancelledError:
        if self.transport.app.should_stop:
            self.log.info("Consumer shutting down for user cancel.")
            return
        raise
    except Exception as exc:
        self.log.exception("Drain messages raised: %r", exc)
        raise
    finally:
        cast(Any, self.diag).unset_flag(faust_consumer.CONSUMER_FETCHING)
