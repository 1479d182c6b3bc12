"""``rumteb merge``: SLERP-merge two fine-tuned models (`rumteb.recipe.merge`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

_MERGE_EPILOG = """\
examples:
  rumteb merge ft-a ft-b --t 0.5 --out merged
  rumteb merge ft-a ft-b --t-schedule 0,0.5,1 --out merged          # all A at the first layer, all B at the last
  rumteb merge ft-a ft-b --t 0.5 --t-attention 0.3 --t-mlp 0.7 --out merged
"""


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


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    from rumteb.recipe.merge import merge_models

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
