"""``rumteb extend-tokenizer``, ``merge``, ``train`` and ``align``: the ru-en-RoSBERTa recipe's commands.

``register_cli(commands)`` adds them to the ``rumteb`` command line; each handler takes the parsed arguments and
returns an exit code. Heavy imports stay inside the handlers.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

__all__ = ["register_cli"]

logger = logging.getLogger(__name__)

_MERGE_EPILOG = """\
examples:
  rumteb merge ft-a ft-b --t 0.5 --out merged
  rumteb merge ft-a ft-b --t-schedule 0,0.5,1 --out merged          # all A at the first layer, all B at the last
  rumteb merge ft-a ft-b --t 0.5 --t-attention 0.3 --t-mlp 0.7 --out merged
"""

_EXTEND_EPILOG = """\
examples:
  rumteb extend-tokenizer ./ruRoberta-large ./roberta-large --out ./ruRoberta-large-en
  rumteb extend-tokenizer ./all-MiniLM-L6-v2 ./ru-wordpiece --out ./minilm-ru --max-new-tokens 20000
"""

_TRAIN_EPILOG = """\
examples:
  rumteb train ru-en-rosberta                       # the shipped config of the paper's recipe
  rumteb train --dump-config ru-en-rosberta > my.yaml
  rumteb train my.yaml --set output_dir=out/run1 --set max_steps=100
  rumteb train my.yaml --set save_steps=500 --resume        # continue after a crash or preemption
  torchrun --nproc_per_node 8 -m rumteb.cli train my.yaml     # DDP on 8 GPUs (or: accelerate launch -m rumteb.cli)
"""


_ALIGN_EPILOG = """\
examples:
  rumteb align ./model --pairs ../shared/data/train/stsb_multi_mt/ru-test.jsonl \\
      ../shared/data/train/stsb_multi_mt/en-test.jsonl --fields sentence1 sentence2
  rumteb align ./model --pairs pairs.jsonl --columns ru en --prompt "search_query: " --json
"""


def register_cli(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``extend-tokenizer``, ``merge``, ``train`` and ``align`` to the command line's subcommands."""
    _add_extend(commands)
    _add_merge(commands)
    _add_train(commands)
    _add_align(commands)


def _add_extend(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "extend-tokenizer",
        help="add a donor tokenizer's tokens to a model, with initialised embeddings",
        description="Extend the tokenizer of model BASE (a sentence-transformers or transformers folder) with the "
        "tokens of tokenizer DONOR (a folder with tokenizer.json of the same type). Byte-level BPE: donor tokens "
        "and merges the base lacks are appended after the base's; WordPiece: donor pieces are appended. Every "
        "base token keeps its id. Each new embedding row is the mean of the base model's rows of the base "
        "tokenizer's pieces of that token; tied output embeddings follow. DIR is a copy of BASE that loads with "
        "transformers (and sentence-transformers when BASE is a sentence-transformers folder).",
        epilog=_EXTEND_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("base", type=Path, metavar="BASE", help="model folder whose tokenizer is extended")
    parser.add_argument("donor", type=Path, metavar="DONOR", help="tokenizer folder with the tokens to add")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="new output folder")
    parser.add_argument(
        "--max-new-tokens",
        type=int,
        default=None,
        metavar="N",
        help="add at most N tokens, the donor's first in id order (default: all the base lacks)",
    )
    parser.set_defaults(handler=_cmd_extend)


def _cmd_extend(args: argparse.Namespace) -> int:
    from rumteb.models.tokenizer import extend_tokenizer

    report = extend_tokenizer(args.base, args.donor, args.out, max_new_tokens=args.max_new_tokens)
    sys.stdout.write(
        f"{report.kind}: added {len(report.new_tokens)} tokens (ids from {report.first_new_id}) and "
        f"{report.new_merges} merges; wrote {report.out}\n"
    )
    return 0


def _factor_list(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or not all(0.0 <= v <= 1.0 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected a number or comma-separated numbers in [0, 1] such as 0,0.5,1; got {text!r}"
        )
    return values


def _factor(text: str) -> float | list[float]:
    values = _factor_list(text)
    return values[0] if len(values) == 1 else values


def _add_merge(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "merge",
        help="SLERP-merge two models of one architecture",
        description="Spherical linear interpolation of models A and B, tensor by tensor (mergekit's formula, "
        "linear interpolation when a tensor pair is nearly parallel). t = 0 gives A, t = 1 gives B. Both "
        "folders must hold the same tensor names and shapes (mismatches are listed). Integer buffers are copied "
        "from A; tensors outside the numbered layers use --t. DIR is a copy of A's folder (sentence-transformers "
        "config, pooling, tokenizer) with merged weights.",
        epilog=_MERGE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("a", type=Path, metavar="A", help="model A (t = 0)")
    parser.add_argument("b", type=Path, metavar="B", help="model B (t = 1)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="new output folder")
    parser.add_argument(
        "--t", type=float, default=0.5, metavar="T", help="base factor in [0, 1] (default 0.5)"
    )
    parser.add_argument(
        "--t-schedule",
        type=_factor_list,
        default=None,
        metavar="T0,T1,...",
        help="a gradient over the layers: anchors spread evenly from the first to the last layer, linearly "
        "interpolated (e.g. 0,0.5,1); overrides --t inside the layers",
    )
    parser.add_argument(
        "--t-attention",
        type=_factor,
        default=None,
        metavar="T",
        help="factor (or comma-separated gradient) for attention tensors of the layers",
    )
    parser.add_argument(
        "--t-mlp",
        type=_factor,
        default=None,
        metavar="T",
        help="factor (or comma-separated gradient) for feed-forward tensors of the layers",
    )
    parser.set_defaults(handler=_cmd_merge)


def _cmd_merge(args: argparse.Namespace) -> int:
    from rumteb.models.merge import merge_models

    out = merge_models(
        args.a,
        args.b,
        args.out,
        t=args.t,
        t_schedule=args.t_schedule,
        t_attention=args.t_attention,
        t_mlp=args.t_mlp,
    )
    sys.stdout.write(f"merged {args.a} and {args.b} into {out}\n")
    return 0


def _add_train(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "train",
        help="contrastive training from a YAML config (needs rumteb[train])",
        description="Contrastive (InfoNCE) training of a sentence-transformers model from a YAML config: "
        "CachedMultipleNegativesRankingLoss with scale = 1/temperature, every batch from one dataset without "
        "duplicate texts, prompts per column role saved with the model. The resolved config is written beside "
        "the checkpoints. Multi-GPU: launch it with torchrun --nproc_per_node N (or accelerate launch); negatives are then "
        "gathered across processes and every global step draws all its batches from one dataset. Checkpoints every "
        "save_steps steps; --resume continues from the newest.",
        epilog=_TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "config",
        nargs="?",
        metavar="CONFIG",
        help="a YAML config file, or the name of a config shipped with rumteb (ru-en-rosberta)",
    )
    parser.add_argument(
        "--dump-config",
        metavar="NAME",
        default=None,
        help="print a shipped config (e.g. ru-en-rosberta) to stdout, to copy and edit, and exit",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override a top-level config key (value parsed as YAML); repeatable",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest checkpoint-<step> in output_dir (written when save_steps > 0); "
        "starts from scratch when there is none. Same as --set resume=true",
    )
    parser.set_defaults(handler=_cmd_train)


def shipped_configs() -> dict[str, Path]:
    """Name -> path of the training configs shipped in the wheel (``rumteb/models/configs/*.yaml``)."""
    folder = Path(__file__).resolve().parent / "configs"
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


def resolve_config(value: str) -> Path:
    """A config file path, or the path of the shipped config called ``value``.

    Raises:
        LookupError: Neither an existing file nor a shipped config name (suggests the closest names).
    """
    path = Path(value).expanduser()
    if path.is_file():
        return path
    shipped = shipped_configs()
    if value in shipped:
        return shipped[value]
    from rumteb._lookup import unknown_name_error

    raise unknown_name_error(
        "training config",
        value,
        list(shipped),
        f"Pass a YAML file or one of the shipped configs: {', '.join(shipped)}.",
    )


def _cmd_train(args: argparse.Namespace) -> int:
    if args.dump_config is not None:
        sys.stdout.write(resolve_config(args.dump_config).read_text(encoding="utf-8"))
        return 0
    if args.config is None:
        raise ValueError(
            "rumteb train needs a CONFIG (a YAML file or a shipped name such as ru-en-rosberta)."
        )
    from rumteb.models.training import load_config, train

    overrides = [*args.overrides, *(["resume=true"] if args.resume else [])]
    config = load_config(resolve_config(args.config), overrides=overrides)
    result = train(config)
    sys.stdout.write(f"saved the trained model to {result.model_dir}\n")
    return 0


def _add_align(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        "--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"), help="default auto"
    )
    parser.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    parser.set_defaults(handler=_cmd_align)


def _cmd_align(args: argparse.Namespace) -> int:
    import json

    from rumteb.models.alignment import align, read_pairs

    if len(args.pairs) > 2:
        raise ValueError(f"rumteb align --pairs takes one or two files. Got {len(args.pairs)} instead.")
    if args.max_pairs is not None and args.max_pairs < 2:
        raise ValueError(f"rumteb align --max-pairs must be at least 2. Got {args.max_pairs} instead.")
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
