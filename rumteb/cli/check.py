"""``rumteb check``: is a results folder ready for the leaderboard? (`rumteb.reporting.check`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rumteb.cli._errors import CommandError
from rumteb.reporting.check import RESULTS_REPO, check_results


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rumteb check`` to the command line's subcommands."""
    parser = commands.add_parser(
        "check",
        help="is a results folder ready for the leaderboard?",
        description="Check a results folder (mteb's layout) before submitting it to the ruMTEB leaderboard "
        f"({RESULTS_REPO}): every task of the benchmark present with a finite main score on the splits and "
        "subsets the leaderboard averages, the pinned dataset revisions (a warning naming both otherwise), "
        "model_meta.json with the model's name and a Hub commit as revision, the mteb version and "
        "run_settings.jsonl; then the results repository's CI rules (task name = file name, no file over 10 MB, "
        "an organization in the model name, the model in mteb's registry) and, with --against, its pull request "
        "checks (no split, subset or language removed, main scores within 0.001 of the result of the same "
        "revision there). For a model mteb's registry does not know, prints the ModelMeta block to add to mteb "
        "(fields the folder does not hold left None with a comment). Exits 1 with one line per problem and its "
        "fix; exits 0 printing the folder to copy into the results repository.",
        epilog="examples:\n  rumteb check results/results/ORG__MODEL -b ruMTEB\n"
        "  rumteb check OUT --against results-clone --model-meta-out model_meta_block.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "path",
        type=Path,
        metavar="RESULTS_DIR",
        help="results folder: cache root, results/, model or revision",
    )
    parser.add_argument(
        "-b", "--benchmark", default="ruMTEB", help="ruMTEB (default), ruMTEB(v1) or ruMTEB(v1.1)"
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="RESULTS_REPO_CLONE",
        help="a clone of the results repository: compare each file with the one of the same model, revision "
        "and task there, as its CI does for a pull request",
    )
    parser.add_argument(
        "--model-meta-out",
        type=Path,
        metavar="FILE",
        help="write the ModelMeta block(s) for models mteb's registry does not know to FILE instead of printing",
    )
    parser.set_defaults(handler=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    out = args.model_meta_out
    if out is not None and not out.parent.is_dir():
        raise CommandError(
            f"The '--model-meta-out' option must be a file in an existing folder. Got {str(out)!r} instead."
        )
    report = check_results(args.path, args.benchmark, against=args.against)
    for problem in report.problems:
        sys.stdout.write(f"{problem}\n")
    blocks = "\n\n".join(report.model_meta_blocks.values())
    if blocks and out is not None:
        out.write_text(blocks, encoding="utf-8")
        names = ", ".join(report.model_meta_blocks)
        sys.stdout.write(
            f"ModelMeta for {names} (to add to mteb/models/model_implementations/) written to {out}\n"
        )
    elif blocks:
        sys.stdout.write(
            "ModelMeta to add to mteb (mteb/models/model_implementations/), then open a pull request:\n"
        )
        sys.stdout.write(blocks)
    counts = f"{_count(len(report.errors), 'error')}, {_count(len(report.warnings), 'warning')}"
    if not report.ok:
        sys.stdout.write(f"NOT READY for the {report.benchmark} leaderboard: {counts}.\n")
        return 1
    sys.stdout.write(
        f"READY for the {report.benchmark} leaderboard ({counts}). Copy into the results folder of a "
    )
    sys.stdout.write(f"clone of {RESULTS_REPO} (rumteb's own *.rumteb records and dot files stay out):\n")
    for model_folder in report.models:
        sys.stdout.write(
            f"  rsync -a --exclude '*.rumteb' --exclude '.*' {model_folder} RESULTS_REPO/results/\n"
        )
    return 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
