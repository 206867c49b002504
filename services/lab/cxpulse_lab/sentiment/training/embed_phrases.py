"""`cxpulse embed-phrases`: recompute routing's phrase-embedding matrix with the sentiment encoder.

Routing ranks agent-assist phrases by the dot product of a turn's embedding (shipped on UtteranceSentiment by the
sentiment service) with this matrix, and gives no guidance when the two encoder versions differ. Run it after
replacing the encoder artifacts (cxpulse_sentiment/artifacts) or editing the phrase library:

    cxpulse embed-phrases            # the shipped library and artifacts, writes phrases.embeddings.npz next to it
    cxpulse embed-phrases --phrases my-phrases.yaml --out my-phrases.embeddings.npz [--model-dir DIR]

Lab/dev tool: reads the library's ids and texts itself (routing validates the rest at start), so the sentiment
package does not depend on routing."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import yaml

from cxpulse_core.embedding import PhraseMatrix, load_matrix, save_matrix
from cxpulse_sentiment.model import ARTIFACTS, SentimentModel

# routing's package directory, found without importing routing (its import starts nothing, but needs faust)
ROUTING = Path(importlib.util.find_spec("cxpulse_routing").origin).parent  # type: ignore[union-attr, arg-type]
DEFAULT_PHRASES = ROUTING / "phrases.yaml"


def embed_phrases(phrases: Path, model: SentimentModel) -> PhraseMatrix:
    doc = yaml.safe_load(phrases.read_text())
    ids = tuple(str(p["id"]) for p in doc["phrases"])
    texts = tuple(str(p["text"]) for p in doc["phrases"])
    # The same serving path as the service's turns (the encoder's own ONNX batch size), so rows are comparable.
    return PhraseMatrix(model.encoder_version, ids, texts, model.embed(texts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cxpulse embed-phrases", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phrases", type=Path, default=DEFAULT_PHRASES)
    parser.add_argument("--out", type=Path, default=None, help="default: PHRASES with .embeddings.npz")
    parser.add_argument("--model-dir", type=Path, default=ARTIFACTS)
    args = parser.parse_args(argv)
    out = args.out or args.phrases.with_suffix(".embeddings.npz")
    pm = embed_phrases(args.phrases, SentimentModel.load(args.model_dir))
    save_matrix(out, pm)
    check = load_matrix(out)
    print(f"wrote {out}: {len(check.ids)} phrases x {check.matrix.shape[1]} dims, encoder {check.encoder}")
    return 0
