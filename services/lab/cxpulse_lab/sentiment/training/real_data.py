"""Real human-labelled sentences (not written by cxpulse), mapped to negative / neutral / positive and split.

Sources (copied into services/lab/data/sentiment/ with their licenses; counts and citations in MODEL_CARD.md):
  vader-amazon  VADER product-review sentences (MIT), mean of >= 20 ratings on -4..+4, 300 reviews
  vader-tweets  VADER short social-media posts (MIT), same rating scheme
  uci-amazon    UCI sentiment-labelled sentences, phone reviews (CC BY 4.0), binary
  uci-yelp      UCI sentiment-labelled sentences, restaurant reviews (CC BY 4.0), binary
Training-only sources (AUX_SOURCES: not customer language, so never in the real dev or test splits; all their rows
are used for fine-tuning the encoder, where more human polarity judgements of any kind help):
  vader-movies  VADER movie-review snippets (MIT), same rating scheme
  vader-nyt     VADER NYT-editorial sentences (MIT), same rating scheme
  uci-imdb      UCI sentiment-labelled sentences, movie reviews (CC BY 4.0), binary
  emobank       EmoBank (CC BY 4.0): news, blog, letter, fiction sentences rated for valence on 1..5
  dynasent      DynaSent round-1 dev (CC BY 4.0): Yelp review sentences, positive / negative / neutral by >= 4 of 5
                crowdworkers. Customer language, but kept out of dev and test so that the pooled real test stays the
                one every earlier model was judged on (and its high-agreement rows are easier than that test's)

Rating -> label: r < -0.5 negative, r > +0.5 positive, otherwise neutral (EmoBank's 1..5 valence V taken as
r = 2 (V - 3), the same cut points on its scale); every row is kept (dropping the band
near the cut points would make the test easier than real traffic). Splits are by source document: all sentences
of one amazon review land in the same split, so no review is seen in training and again in test. The split of a
document is a fixed function of its id (sha256), so it never changes when other rows are added.
`test` is never used for fitting, model selection, calibration or thresholds; `dev` is for all of those.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
from pathlib import Path

from .data import DATA, Split

SOURCES = ("vader-amazon", "vader-tweets", "uci-amazon", "uci-yelp")
AUX_SOURCES = ("vader-movies", "vader-nyt", "uci-imdb", "emobank", "dynasent")
SHIPPED_AUX = AUX_SOURCES[:3]  # what the shipped encoder was fine-tuned on (EmoBank, DynaSent: tried, MODEL_CARD.md)
_FILES = {"vader-amazon": "amazonReviewSnippets", "vader-tweets": "tweets", "vader-movies": "movieReviewSnippets",
          "vader-nyt": "nytEditorialSnippets", "uci-amazon": "amazon_cells", "uci-yelp": "yelp", "uci-imdb": "imdb"}
NEG_BELOW, POS_ABOVE = -0.5, 0.5
TEST_PCT, DEV_PCT = 25, 15  # of documents; the rest is train


def rating_label(r: float) -> str:
    return "negative" if r < NEG_BELOW else "positive" if r > POS_ABOVE else "neutral"


def part_of(source: str, doc: str) -> str:
    bucket = int(hashlib.sha256(f"{source}/{doc}".encode()).hexdigest()[:8], 16) % 100
    return "test" if bucket < TEST_PCT else "dev" if bucket < TEST_PCT + DEV_PCT else "train"


def _rows(source: str, root: Path) -> list[tuple[str, str, str, float]]:
    """-> [(document id, text, label, rating)] for one source, in file order; rating: VADER's mean rating scaled to
    -1..1 (EmoBank's valence likewise; nan where a source has no rating: UCI, DynaSent)."""
    rows = []
    if source == "dynasent":
        with (root / "dynasent" / "dynasent-v1.1-round01-yelp-dev.jsonl").open(encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                rows.append((row["review_id"], row["sentence"].strip(), row["gold_label"], float("nan")))
    elif source == "emobank":
        with (root / "emobank" / "emobank.csv").open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):  # id is document_start_end
                r = 2 * (float(row["V"]) - 3)
                rows.append((row["id"].rsplit("_", 2)[0], row["text"].strip(), rating_label(r), r / 4))
    elif source.startswith("vader-"):
        path = root / "vader-hutto2014" / f"{_FILES[source]}_GroundTruth.txt"
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            sid, rating, text = line.split("\t", 2)
            doc = sid.split("_")[0]  # amazon and nyt ids are document_sentence; tweets, movie snippets one each
            rows.append((doc, html.unescape(text.strip()), rating_label(float(rating)), float(rating) / 4))
    else:
        lines = (root / "uci-sentences" / f"{_FILES[source]}_labelled.txt").read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            text, label = line.rsplit("\t", 1)
            rows.append((str(i), text.strip(), "positive" if label.strip() == "1" else "negative", float("nan")))
    return rows


def load_real(source: str, part: str, root: Path = DATA) -> Split:
    if source not in SOURCES or part not in ("train", "dev", "test"):
        raise ValueError(f"unknown real source/part {source}/{part}")
    split = Split(f"{source}-{part}")
    for doc, text, label, rating in _rows(source, root):
        if text and part_of(source, doc) == part:
            split.add(text, label, set(), rating)  # no emotion labels: never used to fit the emotion heads
    return split


def load_aux(source: str, root: Path = DATA) -> Split:
    """Every row of a training-only source (never evaluated: not customer language), less any text that also
    occurs in a real dev or test split."""
    if source not in AUX_SOURCES:
        raise ValueError(f"unknown auxiliary source {source}")
    held_out = {_norm(t) for s in SOURCES for part in ("dev", "test") for t in load_real(s, part, root).texts}
    split = Split(f"{source}-all")
    for _doc, text, label, rating in _rows(source, root):
        if text and _norm(text) not in held_out:  # a few generic lines ("Very disappointing.") occur in both
            split.add(text, label, set(), rating)
    return split


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def load_real_pooled(part: str, root: Path = DATA) -> Split:
    pooled = Split(f"real-{part}")
    for source in SOURCES:
        s = load_real(source, part, root)
        pooled.texts += s.texts
        pooled.y += s.y
        pooled.emo += s.emo
        pooled.rating += s.rating
    return pooled


def main(argv: list[str] | None = None) -> int:
    """Write each source's split (and the pooled one) as JSONL for `cxpulse evaluate sentiment --data`."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--part", choices=["train", "dev", "test"], default="test")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from cxpulse_sentiment.heads import POLARITY

    for split in [*(load_real(s, args.part) for s in SOURCES), load_real_pooled(args.part)]:
        path = args.out / f"{split.name}.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for text, y in zip(split.texts, split.y, strict=True):
                f.write(json.dumps({"text": text, "label": POLARITY[y]}, ensure_ascii=False) + "\n")
        print(f"{path}: {len(split.texts)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
