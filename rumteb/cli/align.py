"""``rumteb align``: cross-lingual alignment of a model on translation pairs (`rumteb.recipe.alignment`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rumteb.errors import ParameterError

_ALIGN_EPILOG = """\
examples:
  rumteb align ./model --pairs ../shared/data/train/stsb_multi_mt/ru-test.jsonl \\
      ../shared/data/train/stsb_multi_mt/en-test.jsonl --fields sentence1 sentence2
  rumteb align ./model --pairs pairs.jsonl --columns ru en --prompt "search_query: " --json
"""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "align",
        help="cross-lingual alignment of a model on ru/en translation pairs",
        description="Encode row-aligned Russian/English translation pairs with MODEL and report the mean cosine of "
        "translation pairs vs random pairs (seeded, never a sentence with its own translation) and retrieval "
        "accuracy@1 ru->en and en->ru (nearest neighbour by cosine among all sentences of the other language). "
        "Input: one JSONL file with a Russian and an English column (--columns), or two row-aligned JSONL files, "
        "Russian first, read at --fields. Pairs whose Russian or English text repeats an earlier pair are dropped.",
        epilog=_ALIGN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="a model folder or Hub id")
    parser.add_argument(
        "--pairs",
        nargs="+",
        required=True,
        type=Path,
        metavar="FILE",
        help="one JSONL file with both columns, or RU.jsonl EN.jsonl (row-aligned)",
    )
    parser.add_argument(
        "--columns",
        nargs=2,
        default=("ru", "en"),
        metavar=("RU", "EN"),
        help="the Russian and English column of a single file (default: ru en)",
    )
    parser.add_argument(
        "--fields",
        nargs="+",
        default=["sentence1"],
        metavar="FIELD",
        help="text fields of two row-aligned files; each adds a pair per row (default: sentence1)",
    )
    parser.add_argument("--prompt", default=None, help="prefix added to every sentence (default: none)")
    parser.add_argument("--max-pairs", type=int, default=None, metavar="N", help="use the first N pairs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random pairs (default 0)")
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: CUDA if available)")
    parser.add_argument(
        "--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16", "int8"), help="default auto"
    )
    parser.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    parser.set_defaults(handler=_cmd_align)


def _cmd_align(args: argparse.Namespace) -> int:
    import json

    from rumteb.recipe.alignment import align, read_pairs

    if len(args.pairs) > 2:
        raise ParameterError(f"rumteb align --pairs takes one or two files. Got {len(args.pairs)} instead.")
    if args.max_pairs is not None and args.max_pairs < 2:
        raise ParameterError(f"rumteb align --max-pairs must be at least 2. Got {args.max_pairs} instead.")
    ru, en = read_pairs(args.pairs, columns=tuple(args.columns), fields=args.fields, max_pairs=args.max_pairs)
    report = align(
        args.model, ru, en, prompt=args.prompt, seed=args.seed, device=args.device, precision=args.precision
    )
    if args.json:
        sys.stdout.write(json.dumps({"model": args.model, **report.as_dict()}) + "\n")
        return 0
    sys.stdout.write(
        f"model: {args.model}\n"
        f"pairs: {report.pairs}\n"
        f"mean cosine, translation pairs: {report.mean_cosine_pairs:.4f}\n"
        f"mean cosine, random pairs:      {report.mean_cosine_random:.4f}\n"
        f"gap:                            {report.cosine_gap:.4f}\n"
        f"accuracy@1 ru->en: {report.ru_to_en_accuracy_at_1:.4f}\n"
        f"accuracy@1 en->ru: {report.en_to_ru_accuracy_at_1:.4f}\n"
    )
    return 0
