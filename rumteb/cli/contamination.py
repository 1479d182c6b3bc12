"""``rumteb contamination``: how many training texts of a config occur in ruMTEB's evaluation splits
(`rumteb.recipe.contamination`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rumteb.errors import ParameterError

_EPILOG = """\
examples:
  rumteb contamination ru-en-rosberta --data-dir ~/rumteb-data
  rumteb contamination my.yaml -t RUParaPhraserSTS RuSTSBenchmarkSTS --threshold 0.9 --out report.json
  rumteb train my.yaml --exclude-contaminated          # drop those examples before training
"""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rumteb contamination`` to the command line's subcommands."""
    parser = commands.add_parser(
        "contamination",
        help="training texts of a config that occur in ruMTEB's evaluation splits",
        description="For every training source of CONFIG (as 'rumteb train' reads it: where, max_rows) and every "
        "task of the benchmark: the number and share of its distinct training texts found in the task's "
        "evaluation splits, exactly (after NFKC, case folding and whitespace collapsing) and as near duplicates "
        "(Jaccard similarity of character 5-grams >= --threshold, found with MinHash LSH and confirmed exactly). "
        "Prints a table of the pairs with any overlap; --out writes the full JSON report.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", metavar="CONFIG", help="a training config (YAML file or shipped name)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "-b", "--benchmark", default="ruMTEB", help="ruMTEB (default), ruMTEB(v1) or ruMTEB(v1.1)"
    )
    which.add_argument("-t", "--tasks", nargs="+", metavar="TASK", help="only these tasks")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="offline mirror (default: $RUMTEB_DATA_DIR, else Hub)"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.8,
        help="near-duplicate Jaccard threshold in (0, 1] (default 0.8)",
    )
    parser.add_argument("--exact-only", action="store_true", help="exact matches only (no MinHash pass)")
    parser.add_argument(
        "--all-rows", action="store_true", help="print every source and task, not only overlaps"
    )
    parser.add_argument(
        "--out", type=Path, default=None, metavar="FILE.json", help="write the JSON report here"
    )
    parser.set_defaults(handler=_cmd_contamination)


def _cmd_contamination(args: argparse.Namespace) -> int:
    from rumteb.benchmark import select_tasks
    from rumteb.recipe.config import load_config, resolve_config
    from rumteb.recipe.contamination import find_contamination
    from rumteb.recipe.lock import apply_lock, config_name
    from rumteb.recipe.sources import load_source, source_texts

    if not 0 < args.threshold <= 1:
        raise ParameterError(f"The '--threshold' option must be in (0, 1]. Got {args.threshold} instead.")
    path = resolve_config(args.config)
    config = apply_lock(load_config(path), config_name(path))  # pin-at-pull sources: the pulled commits
    tasks = select_tasks(args.tasks, benchmark=args.benchmark, data_dir=args.data_dir)
    sources = {
        spec.name: source_texts(load_source(spec, config.seed, config.data_dir)) for spec in config.datasets
    }
    benchmark = "tasks" if args.tasks else args.benchmark
    report = find_contamination(
        sources, tasks, benchmark=benchmark, threshold=args.threshold, near=not args.exact_only
    )
    sys.stdout.write(report.table(all_rows=args.all_rows))
    totals = {o.source: o.texts for o in report.overlaps}
    for name, found in report.contaminated.items():
        sys.stdout.write(f"{name}: {len(found)} of {totals.get(name, 0)} distinct texts contaminated\n")
    for task, size in report.exact_only.items():
        sys.stdout.write(f"note: {task} ({size} distinct texts) was checked for exact matches only\n")
    if args.out is not None:
        args.out.write_text(
            json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        sys.stdout.write(f"wrote {args.out}\n")
    return 0
