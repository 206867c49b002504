"""Reads every cxpulse output topic from a point in time and keeps the figures of the demo's live console and
final report. Everything it reports comes from the topics, not from the simulator's intentions."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from cxpulse_core import topics
from cxpulse_core.serde import Serde, SerdeError
from cxpulse_core.settings import KafkaSettings, RuntimeSettings

# hop name -> (topic, record name) whose produced_time - origin_time is that hop's latency
HOPS = {
    "ingest": (topics.INTERACTIONS, "Utterance"),
    "sentiment": (topics.UTTERANCE_SENTIMENT, "UtteranceSentiment"),
    "contact_update": (topics.CONTACT_SENTIMENT, "ContactSentimentUpdate"),
    "guidance": (topics.GUIDANCE, "AgentGuidance"),
    "escalation": (topics.ESCALATIONS, "Escalation"),
    "alert": (topics.ALERTS, "SupervisorAlert"),
    "notification": (topics.NOTIFICATION_LOG, "NotificationDelivery"),
    "churn": (topics.CHURN_RISK, "ChurnRisk"),
}
WATCHED = (topics.INTERACTIONS, topics.UTTERANCE_SENTIMENT, topics.CONTACT_SENTIMENT, topics.CHURN_RISK,
           topics.ESCALATIONS, topics.GUIDANCE, topics.ALERTS, topics.NOTIFICATION_LOG)
DEADLETTERS = tuple(topics.deadletter(s) for s in ("ingest", "sentiment", "churn-scoring", "routing", "notification"))
NEGATIVE = -0.25


class PipelineWatch:
    def __init__(self, kafka: KafkaSettings, runtime: RuntimeSettings, serde: Serde, since_ms: int) -> None:
        self.runtime, self.serde = runtime, serde
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.live: dict[str, dict[str, Any]] = {}  # contact -> latest update, until its summary
        self.summaries: list[dict[str, Any]] = []
        self.risk_first: dict[str, float] = {}
        self.risk_latest: dict[str, dict[str, Any]] = {}
        self.escalations: list[dict[str, Any]] = []
        self.alerts: list[dict[str, Any]] = []
        self.deliveries: Counter[str] = Counter()
        self.deadletters: Counter[str] = Counter()
        self.redactions: Counter[str] = Counter()
        self.texts: list[str] = []  # redacted texts that reached cx.interactions, for the PII check
        self.since_ms = since_ms
        self._stop = threading.Event()
        self._consumer = Consumer(kafka.client_config() | {"group.id": f"cxpulse-watch-{since_ms}",
                                                           "enable.auto.commit": False})
        self._assign(since_ms)
        self._thread = threading.Thread(target=self._run, name="watch", daemon=True)

    def _assign(self, since_ms: int) -> None:
        wanted = [self.runtime.topic(t) for t in WATCHED + DEADLETTERS]
        metadata = self._consumer.list_topics(timeout=10).topics
        partitions = [TopicPartition(t, p, since_ms) for t in wanted if t in metadata for p in metadata[t].partitions]
        for attempt in range(20):  # topics created a moment ago may not have a leader yet
            try:
                self._consumer.assign(self._consumer.offsets_for_times(partitions, timeout=10))
                return
            except KafkaException:
                if attempt == 19:
                    raise
                time.sleep(0.5)

    def start(self) -> PipelineWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._consumer.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            for message in self._consumer.consume(500, 0.2):
                if message.error() is None:
                    with self.lock:
                        self._record(message.topic().removeprefix(self.runtime.topic_prefix), message.value())

    def _record(self, topic: str, data: bytes | None) -> None:
        if topic.startswith("cx.deadletter."):
            self.deadletters[topic.removeprefix("cx.deadletter.")] += 1
            return
        if data is None:
            return
        try:
            decoded = self.serde.decode(data, topic)
        except SerdeError:
            self.counts[f"{topic}:undecodable"] += 1
            return
        name, value = decoded.schema.rsplit(".", 1)[-1], decoded.value
        if value.get("origin_time", self.since_ms) < self.since_ms:
            return  # caused by traffic from before this run (a backlog left by an earlier one)
        self.counts[name] += 1
        for hop, (hop_topic, hop_name) in HOPS.items():
            counted = hop != "notification" or value.get("outcome") == "delivered"  # not retries or dedups
            if topic == hop_topic and name == hop_name and value.get("origin_time") and counted:
                self.latencies[hop].append(value["produced_time"] - value["origin_time"])
        getattr(self, f"_on_{name}", lambda v: None)(value)

    def _on_Utterance(self, value: dict[str, Any]) -> None:  # noqa: N802 - named after the record
        self.redactions.update(value["redactions"])
        if len(self.texts) < 200_000:
            self.texts.append(value["text"])

    def _on_ContactSentimentUpdate(self, value: dict[str, Any]) -> None:  # noqa: N802
        self.live[value["contact_id"]] = value

    def _on_ContactSummary(self, value: dict[str, Any]) -> None:  # noqa: N802
        self.live.pop(value["contact_id"], None)
        self.summaries.append(value)

    def _on_ChurnRisk(self, value: dict[str, Any]) -> None:  # noqa: N802
        self.risk_first.setdefault(value["account_id"], value["probability"])
        self.risk_latest[value["account_id"]] = value

    def _on_Escalation(self, value: dict[str, Any]) -> None:  # noqa: N802
        self.escalations.append(value)

    def _on_SupervisorAlert(self, value: dict[str, Any]) -> None:  # noqa: N802
        self.alerts.append(value)

    def _on_NotificationDelivery(self, value: dict[str, Any]) -> None:  # noqa: N802
        self.deliveries[f"{value['channel']}:{value['outcome']}"] += 1

    def negative_now(self) -> list[dict[str, Any]]:
        with self.lock:
            return [u for u in self.live.values() if u["customer"]["turns"] and
                    u["customer"]["rolling_score"] <= NEGATIVE]
