from __future__ import annotations

import json

import numpy as np

from cxpulse_lab.sentiment.training import csgen
from cxpulse_lab.sentiment.training.data import DATA, GOEMO_TO_CS, load_cs_test, load_goemotions
from cxpulse_sentiment.heads import EMOTIONS, POLARITY, Heads, softmax


def test_generator_reproduces_committed_corpus() -> None:
    committed = [json.loads(line) for line in (DATA / "cs_synth" / "cs_synth.jsonl").open(encoding="utf-8")]
    assert csgen.generate() == committed


def test_generator_labels_and_template_holdout() -> None:
    rows = csgen.generate(n_per_template=5)
    assert rows == csgen.generate(n_per_template=5)
    assert {r["label"] for r in rows} == set(POLARITY)
    assert all(set(r["emotions"]) <= set(EMOTIONS) for r in rows)
    train_t = {r["template"] for r in rows if r["split"] == "train"}
    dev_t = {r["template"] for r in rows if r["split"] == "dev"}
    assert dev_t and not train_t & dev_t


def test_cs_test_is_held_out() -> None:
    test = load_cs_test()
    assert len(test.texts) >= 300
    synth = {json.loads(line)["text"].lower() for line in (DATA / "cs_synth" / "cs_synth.jsonl").open(encoding="utf-8")}
    # One- and two-word acknowledgements ("yes", "okay") occur everywhere; any longer overlap is a leak.
    assert not {t.lower() for t in test.texts if len(t.split()) > 2} & synth


def test_goemotions_mapping() -> None:
    assert set(GOEMO_TO_CS.values()) == set(EMOTIONS)
    dev = load_goemotions("dev")
    y, emo = dev.arrays()
    assert 5000 < len(y) < 5426  # rows with both positive and negative emotions are dropped
    assert set(np.unique(y)) == {0, 1, 2} and emo.shape[1] == len(EMOTIONS)


def test_heads_roundtrip(tmp_path) -> None:
    rng = np.random.default_rng(0)
    h = Heads(rng.normal(size=(3, 4)), rng.normal(size=3), 0.8, rng.normal(size=(7, 4)), rng.normal(size=7),
              np.ones(7), np.zeros(7), version="heads-test")
    h.save(tmp_path / "h.npz")
    g = Heads.load(tmp_path / "h.npz")
    x = rng.normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(g.polarity_proba(x), h.polarity_proba(x), atol=1e-5)
    np.testing.assert_allclose(g.emotion_proba(x), h.emotion_proba(x), atol=1e-5)
    assert g.version == "heads-test" and g.emotions == EMOTIONS
    np.testing.assert_allclose(softmax(np.array([[1.0, 2.0, 3.0]])).sum(), 1.0)


def test_real_splits_are_by_document_and_disjoint() -> None:
    from cxpulse_lab.sentiment.training import real_data

    assert [real_data.rating_label(r) for r in (-0.6, -0.5, 0.0, 0.5, 0.6)] == \
        ["negative", "neutral", "neutral", "neutral", "positive"]
    for source in real_data.SOURCES:
        parts = {p: real_data.load_real(source, p) for p in ("train", "dev", "test")}
        sizes = {p: len(s.texts) for p, s in parts.items()}
        assert sizes["test"] > 0.15 * sum(sizes.values()) and sizes["dev"] > 0.08 * sum(sizes.values())
        # Every sentence of one amazon review is in exactly one part (ids are review_sentence).
        docs = {p: {doc for doc, *_ in real_data._rows(source, DATA) if real_data.part_of(source, doc) == p}
                for p in parts}
        assert not docs["train"] & docs["test"] and not docs["dev"] & docs["test"]
    rows = real_data._rows("vader-amazon", DATA)
    assert len(rows) == 3708 and len({doc for doc, *_ in rows}) == 300
    pooled = real_data.load_real_pooled("test")
    assert set(pooled.y) == {0, 1, 2} and not any(pooled.emo[i] != [0] * len(EMOTIONS) for i in range(10))


def test_training_only_sources_never_meet_the_held_out_text() -> None:
    from cxpulse_lab.sentiment.training import real_data

    held_out = {real_data._norm(t) for s in real_data.SOURCES for p in ("dev", "test")
                for t in real_data.load_real(s, p).texts}
    sizes = {}
    for source in real_data.AUX_SOURCES:
        aux = real_data.load_aux(source)
        sizes[source] = len(aux.texts)
        assert not {real_data._norm(t) for t in aux.texts} & held_out
    assert sizes == {"vader-movies": 10605, "vader-nyt": 5188, "uci-imdb": 999, "emobank": 10060, "dynasent": 3600}


def test_the_dynasent_copy_has_the_releases_invariants() -> None:
    # The copy comes from a repository that redistributes the file; these are the checks of the release's own
    # test_dataset.py (cgpotts/dynasent) that apply to round-1 dev, so a truncated or edited copy fails here.
    from collections import Counter

    path = DATA / "dynasent" / "dynasent-v1.1-round01-yelp-dev.jsonl"
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    assert len(rows) == 3600 and len({r["sentence"] for r in rows}) == 3600
    assert set(Counter((r["model_0_label"], r["gold_label"]) for r in rows).values()) == {400}
    assert set(Counter((r["review_rating"], r["gold_label"]) for r in rows).values()) == {600}
    for r in rows:
        votes = sorted((len(workers), label) for label, workers in r["label_distribution"].items())
        assert r["gold_label"] == (votes[-1][1] if votes[-1][0] >= 3 else None)
        assert len({w for ws in r["label_distribution"].values() for w in ws}) == 5


def test_the_default_training_only_sources_are_the_shipped_encoders():
    # `finetune --aux` defaults to SHIPPED_AUX so that `make train-sentiment` rebuilds the shipped encoder.
    import json
    from importlib.resources import files

    from cxpulse_lab.sentiment.training import real_data

    meta = json.loads((files("cxpulse_sentiment") / "artifacts" / "encoder_meta.json").read_text())
    used = set(meta["fine_tuned"]["train_rows"]) & set(real_data.AUX_SOURCES)
    assert used == set(real_data.SHIPPED_AUX)
