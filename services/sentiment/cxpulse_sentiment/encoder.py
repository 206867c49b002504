"""Sentence encoder for serving: ONNX Runtime + `tokenizers`, no torch.

The exported graph already does masked mean pooling and L2 normalisation, so the output is the
sentence-transformers embedding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

MAX_TOKENS = 256  # same as sentence-transformers' max_seq_length for all-MiniLM-L6-v2
DIM = 384


def make_session(onnx_path: Path, threads: int | None = None) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    # One thread by default: one short text per call gains little from intra-op threads (measured 232 turns/s on
    # 1 thread, 201 on 2 without spinning, 338 on 2 spinning but then burning the second core), and a replica
    # should leave the Kafka client its share. Scale out with partitions and replicas; 0 = ORT's default.
    env_threads = int(os.environ.get("CXPULSE_SENTIMENT_THREADS", "1"))
    opts.intra_op_num_threads = threads if threads is not None else env_threads
    opts.inter_op_num_threads = 1
    # Idle pool threads would otherwise spin after every call, starving everything else on the host.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(onnx_path), sess_options=opts, providers=["CPUExecutionProvider"])


class Encoder:
    """One text per ONNX call. The shipped encoder is dynamically quantized (int8): activations are quantized per
    call, so a text scored in a batch would depend on its neighbours (encoder_meta.json `onnx_batch_size: 1`,
    MODEL_CARD.md); one text per call keeps every score reproducible and was also the fastest on 2 cores. Texts
    are still tokenized together, in one call of the tokenizer."""

    def __init__(self, session: ort.InferenceSession, tokenizer_path: Path) -> None:
        self.session = session
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        # The shipped tokenizer.json pads/truncates to a fixed 128; one text per call needs no padding.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)

    @classmethod
    def from_dir(cls, artifact_dir: Path, threads: int | None = None) -> Encoder:
        return cls(make_session(artifact_dir / "encoder.onnx", threads), artifact_dir / "tokenizer.json")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised (n, 384) float32 embeddings, in input order."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        for i, encoding in enumerate(self.tokenizer.encode_batch(list(texts), add_special_tokens=True)):
            input_ids = np.asarray([encoding.ids], dtype=np.int64)
            out[i] = self.session.run(None, {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)})[0][0]
        return out
