"""Measures the choices behind shipping the utterance embedding on UtteranceSentiment (routing/README.md, "Phrase
retrieval"): retrieval agreement of int8 / float16 against float32, record size, and the CPU routing saves.

    python -m cxpulse_lab.sentiment.training.bench_embedding_wire [--texts data/sentiment/cs_test/cs_test.tsv]

Texts: the hand-written customer-service test set (371 turns); phrases: routing's shipped library."""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np

from cxpulse_core.embedding import pack, unpack
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_sentiment.model import SentimentModel

from .data import DATA
from .embed_phrases import DEFAULT_PHRASES, embed_phrases

TEXTS = DATA / "cs_test" / "cs_test.tsv"


def _top(matrix: np.ndarray, v: np.ndarray, k: int = 3) -> list[int]:
    return list(np.argsort(-(matrix @ v), kind="stable")[:k])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=Path, default=TEXTS)
    args = parser.parse_args(argv)
    with args.texts.open() as f:
        texts = [row["text"] for row in csv.DictReader(f, delimiter="\t")]
    model = SentimentModel.load()
    matrix = embed_phrases(DEFAULT_PHRASES, model).matrix
    started = time.process_time()
    vectors = model.embed(texts)
    encode_ms = (time.process_time() - started) * 1000 / len(texts)
    results: dict[str, object] = {"texts": len(texts), "phrases": int(matrix.shape[0]),
                                  "encoder_cpu_ms_per_text": round(encode_ms, 3)}
    for name, decode in (("int8", lambda v: unpack(pack(v, "x"))),
                         ("float16", lambda v: v.astype(np.float16).astype(np.float32))):
        top1 = top3 = 0
        cos = []
        for v in vectors:
            w = decode(v)
            cos.append(float(v @ w / np.linalg.norm(w)))
            exact, approx = _top(matrix, v), _top(matrix, w)
            top1 += exact[0] == approx[0]
            top3 += set(exact) == set(approx)
        results[name] = {"top1_agreement": round(top1 / len(texts), 4),
                         "top3_set_agreement": round(top3 / len(texts), 4),
                         "min_cosine": round(min(cos), 5), "bytes": 384 * (1 if name == "int8" else 2)}
    serde = SingleObjectSerde()
    base = {"event_id": "e" * 36, "contact_id": "c" * 36, "account_id": "a-123456", "customer_id": "cu-123456",
            "agent_id": "agent-17", "queue": "billing", "channel": "voice", "journey_stage": "billing",
            "utterance_id": "u" * 36, "utterance_event_id": "e" * 36, "turn": 7, "speaker": "customer",
            "text": texts[0], "label": "negative", "score": -0.8, "score5": -4.0,
            "emotions": {e: 0.1 for e in model.heads.emotions}, "model_version": model.version,
            "event_time": 1, "origin_time": 1, "produced_time": 1}
    plain = serde.encode("io.cxpulse.sentiment.UtteranceSentiment", base)
    packed = pack(vectors[0], model.encoder_version)
    full = serde.encode("io.cxpulse.sentiment.UtteranceSentiment", base | {"embedding": packed})
    n = 2000
    started = time.process_time()
    for _ in range(n):
        serde.decode(full)
    decode_with = (time.process_time() - started) * 1e6 / n
    started = time.process_time()
    for _ in range(n):
        serde.decode(plain)
    decode_without = (time.process_time() - started) * 1e6 / n
    started = time.process_time()
    for _ in range(n):
        unpack(packed)
    unpack_us = (time.process_time() - started) * 1e6 / n
    results["record_bytes"] = {"without_embedding": len(plain), "with_int8_embedding": len(full)}
    results["cpu_us"] = {"decode_without": round(decode_without, 1), "decode_with": round(decode_with, 1),
                         "unpack": round(unpack_us, 1)}
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
