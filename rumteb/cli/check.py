"""``rumteb check``: is a results folder ready for the leaderboard? (`rumteb.reporting.check`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
        "run_settings.jsonl. Exits 1 with one line per problem and its fix; exits 0 printing the folder to copy "
        "into the results repository.",
        epilog="example:\n  rumteb check results/results/ORG__MODEL -b ruMTEB",
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
    parser.set_defaults(handler=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    report = check_results(args.path, args.benchmark)
    for problem in report.problems:
        sys.stdout.write(f"{problem}\n")
    counts = f"{len(report.errors)} errors, {len(report.warnings)} warnings"
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
