"""Routing's shipped phrase matrix was computed with the shipped encoder: after the encoder artifacts change, this
fails until `cxpulse embed-phrases` regenerates services/routing/cxpulse_routing/phrases.embeddings.npz."""

from __future__ import annotations

import numpy as np

from cxpulse_core.embedding import load_matrix
from cxpulse_lab.sentiment.training.embed_phrases import DEFAULT_PHRASES, embed_phrases
from cxpulse_routing.guidance import load_library, load_phrase_matrix, matrix_path
from cxpulse_sentiment.model import ARTIFACTS, SentimentModel, encoder_version


def test_the_shipped_phrase_matrix_is_of_the_shipped_encoder_and_library():
    shipped = load_matrix(matrix_path(DEFAULT_PHRASES))
    assert shipped.encoder == encoder_version(ARTIFACTS), "regenerate it: cxpulse embed-phrases"
    _, phrases = load_library(DEFAULT_PHRASES)
    assert load_phrase_matrix(matrix_path(DEFAULT_PHRASES), phrases).ids == tuple(p.phrase_id for p in phrases)


def test_the_shipped_phrase_matrix_is_what_the_command_computes():
    model = SentimentModel.load()
    fresh = embed_phrases(DEFAULT_PHRASES, model)
    shipped = load_matrix(matrix_path(DEFAULT_PHRASES))
    assert fresh.encoder == shipped.encoder == model.encoder_version
    assert np.allclose(fresh.matrix, shipped.matrix, atol=1e-5)
    assert np.allclose(np.linalg.norm(shipped.matrix, axis=1), 1.0, atol=1e-4)


def test_the_encoder_version_changes_with_the_weights(tmp_path):
    for name in ("encoder.onnx", "tokenizer.json", "encoder_meta.json"):
        (tmp_path / name).write_bytes((ARTIFACTS / name).read_bytes())
    assert encoder_version(tmp_path) == encoder_version(ARTIFACTS)
    with (tmp_path / "encoder.onnx").open("ab") as f:
        f.write(b"\0")
    assert encoder_version(tmp_path) != encoder_version(ARTIFACTS)
