"""``rumteb compare``: per-task difference of two models with a paired bootstrap CI (`rumteb.reporting.compare`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rumteb.errors import ParameterError
from rumteb.reporting.compare import compare_predictions
from rumteb.reporting.compare_table import FORMATS, format_comparison

_EPILOG = """\
what is compared:
  PairClassification  max AP over mteb's five similarity functions, per pair
  STS                 Spearman (or the task's correlation) of the model's similarities, per pair
  Retrieval/Reranking nDCG@10 / MAP@1000 (the task's main score) from per-query pytrec_eval values
  Classification      accuracy, averaged over mteb's experiments, per test text
  Multilabel          exact-match accuracy, averaged over mteb's experiments, per test text
  Clustering          n/a: mteb keeps no per-example scores (v-measure over its own random subsamples)

examples:
  rumteb run -m ./model-a -b ruMTEB --prediction-folder preds/a --overwrite-strategy always
  rumteb run -m ./model-b -b ruMTEB --prediction-folder preds/b --overwrite-strategy always
  rumteb compare preds/a preds/b --data-dir ~/rumteb-data
  rumteb compare preds/a preds/b -t TERRa STS22 --n-boot 10000 --seed 1 --format csv
"""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rumteb compare`` to the command line's subcommands."""
    parser = commands.add_parser(
        "compare",
        help="per-task difference of two models with a paired bootstrap CI",
        description="Per task, the main scores of models A and B, recomputed from the per-example outputs mteb "
        "keeps in each model's prediction folder (rumteb run --prediction-folder DIR), and a paired bootstrap "
        "confidence interval of B - A: the test examples (pairs, texts, queries) are resampled with replacement "
        "and both models are scored on the same resample. Gold labels come from the tasks' datasets. Give each "
        "model its own prediction folder: mteb writes <Task>_predictions.json without a model subfolder, so a "
        "second model run into the same folder replaces the first one's outputs.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("pred_a", type=Path, metavar="PRED_A", help="prediction folder of model A")
    parser.add_argument("pred_b", type=Path, metavar="PRED_B", help="prediction folder of model B")
    parser.add_argument(
        "-t",
        "--tasks",
        nargs="+",
        metavar="TASK",
        help="only these tasks (default: every ruMTEB task with predictions in either folder)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="offline mirror for gold labels (default: $RUMTEB_DATA_DIR, else Hub)",
    )
    parser.add_argument(
        "--n-boot", type=int, default=1000, metavar="N", help="bootstrap resamples (default 1000)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="SEED", help="seed of the resampling (default 0)"
    )
    parser.add_argument(
        "--confidence",
        type=float,
        default=0.95,
        metavar="LEVEL",
        help="coverage of the interval (default 0.95)",
    )
    parser.add_argument(
        "--format", choices=list(FORMATS), default="md", help="output format (default md); scores are x100"
    )
    parser.set_defaults(handler=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
    if args.n_boot < 1:
        raise ParameterError(f"The '--n-boot' option must be a positive int. Got {args.n_boot} instead.")
    if not 0 < args.confidence < 1:
        raise ParameterError(
            f"The '--confidence' option must be a number between 0 and 1. Got {args.confidence} instead."
        )
    comparison = compare_predictions(
        args.pred_a,
        args.pred_b,
        tasks=args.tasks,
        data_dir=args.data_dir,
        n_boot=args.n_boot,
        seed=args.seed,
        confidence=args.confidence,
    )
    sys.stdout.write(format_comparison(comparison, args.format))
    return 0
