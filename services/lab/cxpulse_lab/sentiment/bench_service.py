"""Sentiment service throughput through a real broker against the raw model's, in the same process and on the
same texts (realistic simulated customer and agent turns), so that the ratio shows
what the service itself costs: consume, decode, micro-batch, score, update contacts, encode, produce, commit."""

from __future__ import annotations

import statistics
import time

from cxpulse_core import topics
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.settings import KafkaSettings, RuntimeSettings
from cxpulse_core.testing.bench import wait_for_size
from cxpulse_core.testing.kafka import produce, unique_name
from cxpulse_core.testing.services import start_loop
from cxpulse_core.topics import create_topics, load_topics
from cxpulse_sentiment.app import build
from cxpulse_sentiment.model import SentimentModel
from cxpulse_sentiment.settings import SentimentSettings

NS = "io.cxpulse.interaction."
T0 = 1_764_190_800_000


def sample_texts(n: int) -> list[str]:
    from cxpulse_lab.sim.scenario import generate  # realistic wording, lengths and mix of speakers

    texts = [e.payload["text"] for e in generate(seed=3, rate=50, duration_s=n / 40 + 30, script="none")
             if e.type == "utterance" and e.payload.get("speaker") in ("customer", "agent")]
    return texts[:n]


def interactions(texts: list[str], per_contact: int = 10) -> list[tuple[str, dict]]:
    events = []
    for i, text in enumerate(texts):
        contact, turn = f"c-{i // per_contact}", i % per_contact + 1
        base = {"event_id": f"{contact}-{turn}", "contact_id": contact, "account_id": f"a-{i // per_contact}",
                "customer_id": None, "agent_id": "ag", "queue": "q", "channel": "voice", "journey_stage": None,
                "language": "en-US", "sequence": turn, "source": "cxpulse", "event_time": T0 + i,
                "ingest_time": T0 + i, "origin_time": T0 + i, "produced_time": T0 + i}
        events.append((NS + "Utterance", base | {"utterance_id": f"u{turn}", "turn": turn,
                                                 "speaker": "customer" if turn % 2 else "agent", "text": text,
                                                 "begin_offset_ms": None, "end_offset_ms": None, "redactions": {}}))
    return events


def _service_once(kafka: KafkaSettings, events: list[tuple[str, dict]], max_batch: int) -> float:
    runtime = RuntimeSettings(topic_prefix=unique_name("bench") + ".", http_port=0)
    create_topics(kafka, load_topics(), runtime.topic_prefix)
    serde, source = SingleObjectSerde(), runtime.topic(topics.INTERACTIONS)
    produce(kafka, source, [(v["contact_id"], serde.encode(s, v, source)) for s, v in events])
    settings = SentimentSettings(group_id=unique_name("bench-sentiment"), max_batch=max_batch)
    config, handler = build(settings, kafka, runtime)
    with start_loop(kafka, config, handler):
        first, last = wait_for_size(kafka, runtime.topic(topics.UTTERANCE_SENTIMENT), len(events))
    return len(events) / (last - first)


def raw_model_per_s(texts: list[str], batch: int) -> float:
    """The model alone on exactly the texts the service gets, in the same batches."""
    model = SentimentModel.load()
    model.predict(texts[:batch])  # warm-up: ONNX Runtime allocates and picks kernels on the first calls
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        model.predict(texts[i:i + batch])
    return len(texts) / (time.perf_counter() - started)


def run(kafka: KafkaSettings, n: int = 3000, repeats: int = 3, batch: int | None = None) -> dict[str, float]:
    """`batch`: the service's max_batch and the raw model's batches; by default the service's own setting."""
    batch = batch or SentimentSettings.model_fields["max_batch"].default
    texts = sample_texts(n)
    events = interactions(texts)
    raw, service = [], []
    for _ in range(repeats):  # interleaved, so both see the same machine
        raw.append(raw_model_per_s(texts, batch))
        service.append(_service_once(kafka, events, batch))
    raw_rate, service_rate = statistics.median(raw), statistics.median(service)
    return {"utterances": len(texts), "batch": batch, "runs": repeats, "raw_model_per_s": round(raw_rate, 1),
            "service_per_s": round(service_rate, 1), "service_vs_raw": round(service_rate / raw_rate, 3)}


if __name__ == "__main__":
    import json

    started = time.perf_counter()
    print(json.dumps(run(KafkaSettings()), indent=2), f"({time.perf_counter() - started:.0f} s)")
