"""``rumteb extend-tokenizer``: add a donor tokenizer's tokens to a model (`rumteb.recipe.tokenizer`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

_EXTEND_EPILOG = """\
examples:
  rumteb extend-tokenizer ./ruRoberta-large ./roberta-large --out ./ruRoberta-large-en
  rumteb extend-tokenizer ./all-MiniLM-L6-v2 ./ru-wordpiece --out ./minilm-ru --max-new-tokens 20000
"""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    from rumteb.recipe.tokenizer import extend_tokenizer

    report = extend_tokenizer(args.base, args.donor, args.out, max_new_tokens=args.max_new_tokens)
    sys.stdout.write(
        f"{report.kind}: added {len(report.new_tokens)} tokens (ids from {report.first_new_id}) and "
        f"{report.new_merges} merges; wrote {report.out}\n"
    )
    return 0
