"""`cxpulse redrive notification`: sends undelivered alerts from `cx.deadletter.notification` through the service
again, once the receiver is fixed.

Each dead letter of a failed delivery (reason `retries_exhausted` by default; `--reason rejected` for 4xx ones)
is produced back onto the topic it came from, unchanged, with the header `cxpulse.redrive` naming the one
delivery (`<alert id>/<channel>/<recipient>`) to attempt again. The running service attempts that delivery afresh
although its changelog says `failed` (a new retry budget, past the rate limits), and deduplicates everything
else as usual, so a recipient that already got the alert does not get it twice, and redriving the same dead
letter twice delivers it once. Progress is kept in the consumer group `NOTIFICATION_REDRIVE_GROUP_ID`, so each
run takes the dead letters written since the last one (`--from-beginning` takes them all again)."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, Message, Producer, TopicPartition

from cxpulse_core.changelog import topic_partitions
from cxpulse_core.kafka import make_consumer, make_producer
from cxpulse_core.settings import KafkaSettings

from .limits import dedup_key

REDRIVE_HEADER = "cxpulse.redrive"
_DROPPED_PREFIXES = ("cxpulse.error.", "cxpulse.notification.", REDRIVE_HEADER)


def redrive(kafka: KafkaSettings, deadletter_topic: str, group_id: str, reasons: set[str], from_beginning: bool = False,
            dry_run: bool = False) -> dict[str, object]:
    """Redrives the dead letters written since the last run; returns counts by what happened to them."""
    consumer = make_consumer(kafka, group_id, **{"enable.auto.commit": False,
                                                           "isolation.level": "read_committed",
                                                           "enable.partition.eof": True})
    producer = make_producer(kafka)
    counts: Counter[str] = Counter()
    errors: list[str] = []
    try:
        partitions = [TopicPartition(deadletter_topic, p) for p in topic_partitions(kafka, deadletter_topic)]
        committed = consumer.committed(partitions, timeout=10)
        ends: dict[int, int] = {}
        start = []
        for tp in committed:
            low, high = consumer.get_watermark_offsets(TopicPartition(deadletter_topic, tp.partition), timeout=10)
            offset = OFFSET_BEGINNING if from_beginning or tp.offset < 0 else tp.offset
            if high > (low if offset == OFFSET_BEGINNING else max(offset, low)):
                ends[tp.partition] = high
                start.append(TopicPartition(deadletter_topic, tp.partition, offset))
        consumer.assign(start)
        done: list[TopicPartition] = []
        while ends:
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error() is not None:
                if message.error().code() != KafkaError._PARTITION_EOF:
                    raise KafkaException(message.error())
            else:
                counts[_redrive_one(message, producer, reasons, dry_run, errors)] += 1
            for tp in consumer.position([TopicPartition(deadletter_topic, p) for p in list(ends)]):
                if tp.offset >= ends[tp.partition]:
                    done.append(TopicPartition(deadletter_topic, tp.partition, tp.offset))
                    del ends[tp.partition]
        if not dry_run:
            if producer.flush(30) or errors:
                raise RuntimeError(f"redriven records not acknowledged: {errors[:3]}")
            if done:  # only once every redriven record is on the broker: a failed run is simply run again
                consumer.commit(offsets=done, asynchronous=False)
    finally:
        consumer.close()
    return {"topic": deadletter_topic, "dry_run": dry_run, **dict(sorted(counts.items()))}


def _redrive_one(message: Message, producer: Producer, reasons: set[str], dry_run: bool, errors: list[str]) -> str:
    headers = {k: (v or b"").decode("utf-8", "replace") for k, v in message.headers() or []}
    reason = headers.get("cxpulse.error.reason", "")
    needed = ("cxpulse.error.source.topic", "cxpulse.notification.alert_id", "cxpulse.notification.channel",
              "cxpulse.notification.recipient")
    if any(name not in headers for name in needed):
        return f"skipped_{reason or 'unknown'}"  # bad input (decode_error, no_route): nothing to deliver
    if reason not in reasons:
        return f"skipped_{reason}"
    key = dedup_key(headers["cxpulse.notification.alert_id"], headers["cxpulse.notification.channel"],
                    headers["cxpulse.notification.recipient"])
    if dry_run:
        return "would_redrive"
    kept = [(k, v) for k, v in message.headers() or [] if not k.startswith(_DROPPED_PREFIXES)]

    def delivered(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            errors.append(str(error))

    producer.produce(headers["cxpulse.error.source.topic"], message.value(), message.key(),
                     headers=[*kept, (REDRIVE_HEADER, key.encode())], on_delivery=delivered)
    producer.poll(0)
    return "redriven"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cxpulse redrive notification", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reason", action="append",
                        help="dead-letter reasons to redrive (repeatable; default: retries_exhausted)")
    parser.add_argument("--from-beginning", action="store_true", help="every dead letter, not only the new ones")
    parser.add_argument("--dry-run", action="store_true", help="count what would be redriven; change nothing")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    from cxpulse_core.logs import configure_logging
    from cxpulse_core.settings import RuntimeSettings

    from .settings import NotificationSettings

    settings, runtime = NotificationSettings(), RuntimeSettings()
    configure_logging("notification-redrive", runtime.log_level)
    summary = redrive(KafkaSettings(), runtime.topic(settings.deadletter_topic), settings.redrive_group_id,
                      set(args.reason or ["retries_exhausted"]), args.from_beginning, args.dry_run)
    print(json.dumps(summary))
    return 0
