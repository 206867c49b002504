"""Turns/s of encoder variants by texts per ONNX call and thread count, on realistic simulated turns (the numbers
behind "one text per call" in MODEL_CARD.md):

    python -m cxpulse_lab.sentiment.training.bench_per_call [ARTIFACT_DIR ...]   # default: the shipped artifacts
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from cxpulse_sentiment.encoder import Encoder, make_session
from cxpulse_sentiment.model import ARTIFACTS

from ..bench_service import sample_texts


def embed_batched(session: ort.InferenceSession, encoder: Encoder, texts: list[str], per_call: int) -> None:
    """`per_call` texts per ONNX call, padded to the longest of them (what serving does not do: see encoder.py)."""
    ids = [e.ids for e in encoder.tokenizer.encode_batch(texts, add_special_tokens=True)]
    for start in range(0, len(ids), per_call):
        chunk = ids[start:start + per_call]
        width = max(len(x) for x in chunk)
        input_ids = np.zeros((len(chunk), width), dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.int64)
        for row, x in enumerate(chunk):
            input_ids[row, :len(x)], mask[row, :len(x)] = x, 1
        session.run(None, {"input_ids": input_ids, "attention_mask": mask})


def main(argv: list[str] | None = None) -> int:
    dirs = [Path(a) for a in (sys.argv[1:] if argv is None else argv)] or [ARTIFACTS]
    texts = sample_texts(1500)
    for artifact_dir in dirs:
        for threads in (1, 0):  # 0: ONNX Runtime's default, one per physical core
            for per_call in (1, 8, 32):
                session = make_session(artifact_dir / "encoder.onnx", threads)
                encoder = Encoder(session, artifact_dir / "tokenizer.json")
                embed_batched(session, encoder, texts[:64], per_call)  # warm-up
                started = time.perf_counter()
                for i in range(0, len(texts), 32):
                    embed_batched(session, encoder, texts[i:i + 32], per_call)
                rate = len(texts) / (time.perf_counter() - started)
                print(f"{artifact_dir.name:<12} threads={threads or 'default':<8} per_call={per_call:<3} {rate:7.1f}/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
