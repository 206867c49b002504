"""A deterministic, dependency-free lexical encoder for tests and development only. In production routing runs no
encoder: turns arrive embedded by the sentiment service, and the phrase matrix was computed with the same encoder
(`cxpulse embed-phrases`)."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence

import numpy as np

DIM = 384
VERSION = "hashing-v1"  # the encoder version its embeddings and phrase matrices carry
_WORD = re.compile(r"[a-z']+")
_STOP = frozenset(("a", "an", "and", "are", "be", "been", "but", "do", "for", "i", "i'm", "is", "it", "it's", "me",
                   "my", "of", "on", "so", "that", "that's", "the", "this", "to", "was", "we", "with", "you",
                   "you're", "you've", "your"))


class HashingEncoder:
    """Bag of content words and word bigrams hashed into DIM buckets, L2-normalised: texts sharing words are similar."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
            for token in words + [f"{a} {b}" for a, b in itertools.pairwise(words)]:
                digest = hashlib.blake2b(token.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % DIM] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return out

