"""Turns/s of encoder variants by texts per ONNX call and thread count, on realistic simulated turns (the numbers
behind "one text per call" in MODEL_CARD.md):

    python -m cxpulse_sentiment.training.bench_per_call [ARTIFACT_DIR ...]   # default: the shipped artifacts
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..bench_service import sample_texts
from ..encoder import Encoder, make_session


def main(argv: list[str] | None = None) -> int:
    dirs = [Path(a) for a in (sys.argv[1:] if argv is None else argv)] or [Path(__file__).parents[1] / "artifacts"]
    texts = sample_texts(1500)
    for artifact_dir in dirs:
        for threads in (1, 0):  # 0: ONNX Runtime's default, one per physical core
            for per_call in (1, 8, 32):
                session = make_session(artifact_dir / "encoder.onnx", threads)
                encoder = Encoder(session, artifact_dir / "tokenizer.json", batch_size=per_call)
                encoder.embed(texts[:64])  # warm-up
                started = time.perf_counter()
                for i in range(0, len(texts), 32):
                    encoder.embed(texts[i:i + 32])
                rate = len(texts) / (time.perf_counter() - started)
                print(f"{artifact_dir.name:<12} threads={threads or 'default':<8} per_call={per_call:<3} {rate:7.1f}/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
