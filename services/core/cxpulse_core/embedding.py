"""The utterance embedding on the wire: the sentiment service encodes each utterance once and ships the vector on
UtteranceSentiment (field `embedding`) so that consumers needing the utterance's meaning (routing's phrase
retrieval, clustering) reuse it instead of running the encoder again.

Compact form: symmetric int8 with one float scale per vector (`vector ≈ scale * int8`), 384 bytes + a few for the
scale and the encoder version, a quarter of float32. The vector is L2-normalised again after decoding, so cosine
similarity is a dot product. Why int8 and not float16: see services/routing/README.md ("Phrase retrieval")."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "int8"  # the only one today; the record says so, so another can be added without a schema change


class EmbeddingError(ValueError):
    """An embedding field that cannot be decoded."""


def pack(vector: np.ndarray, encoder: str) -> dict[str, Any]:
    """The Avro `Embedding` record of a float vector: int8 values and their scale, with the encoder's version."""
    return pack_many(np.asarray(vector, dtype=np.float32).reshape(1, -1), encoder)[0]


def pack_many(vectors: np.ndarray, encoder: str) -> list[dict[str, Any]]:
    """`pack` for each row, vectorised (the sentiment service packs a whole batch at once)."""
    m = np.asarray(vectors, dtype=np.float32)
    peaks = np.abs(m).max(axis=1)
    scales = np.where(peaks > 0, peaks / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(m / scales[:, None]), -127, 127).astype(np.int8)
    return [{"encoder": encoder, "format": FORMAT, "scale": float(s), "values": row.tobytes()}
            for s, row in zip(scales, q, strict=True)]


def unpack(record: dict[str, Any], dim: int | None = None) -> np.ndarray:
    """The L2-normalised float32 vector of an `Embedding` record."""
    if record.get("format", FORMAT) != FORMAT:
        raise EmbeddingError(f"unknown embedding format {record.get('format')!r} (expected {FORMAT!r})")
    values = record.get("values") or b""
    if dim is not None and len(values) != dim:
        raise EmbeddingError(f"embedding has {len(values)} values, expected {dim}")
    v = np.frombuffer(values, dtype=np.int8).astype(np.float32)
    norm = float(np.linalg.norm(v))
    if not v.size or norm == 0.0:
        raise EmbeddingError("empty or zero embedding")
    return v / norm  # the scale cancels out after normalisation; it is kept for consumers that need magnitudes


@dataclass(frozen=True)
class PhraseMatrix:
    """Embeddings of a phrase library, precomputed with one encoder (routing's agent assist ranks phrases by the
    dot product of a turn's embedding with these rows; comparable only if `encoder` equals the turn's)."""
    encoder: str
    ids: tuple[str, ...]
    texts: tuple[str, ...]
    matrix: np.ndarray  # (len(ids), dim) float32, L2-normalised rows


def save_matrix(path: Path, pm: PhraseMatrix) -> None:
    with path.open("wb") as out:  # a file object: numpy would otherwise append .npz to the name
        np.savez_compressed(out, encoder=np.array(pm.encoder), ids=np.array(pm.ids), texts=np.array(pm.texts),
                 matrix=np.asarray(pm.matrix, dtype=np.float32))


def load_matrix(path: Path) -> PhraseMatrix:
    try:
        with np.load(path, allow_pickle=False) as data:
            pm = PhraseMatrix(str(data["encoder"]), tuple(str(i) for i in data["ids"]),
                              tuple(str(t) for t in data["texts"]), np.asarray(data["matrix"], dtype=np.float32))
    except (OSError, KeyError, ValueError) as exc:
        raise EmbeddingError(f"{path}: not a phrase-embedding matrix: {exc.__class__.__name__}: {exc}") from exc
    if pm.matrix.shape[0] != len(pm.ids) or len(pm.ids) != len(pm.texts):
        raise EmbeddingError(f"{path}: {pm.matrix.shape[0]} rows for {len(pm.ids)} phrase ids")
    return pm
