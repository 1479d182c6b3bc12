"""``rumteb board``: the leaderboard of result folders as one self-contained HTML page (`rumteb.reporting`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rumteb board`` to the command line's subcommands."""
    parser = commands.add_parser(
        "board",
        help="the leaderboard of results as one HTML page that opens offline",
        description="Write one self-contained HTML page (no server, no network when viewed; about 5 MB, most of "
        "it plotly.js) for every model found under the result folders (mteb's layout, as for 'rumteb table'): "
        "the board's summary table as 'rumteb table --columns board' shows it (Rank (Borda), Zero-shot, "
        "parameters, the means), sortable by every column; filters (zero-shot only, size range, task types, "
        "complete models only); the per-task table; Mean(Task) against size and against the texts/s rumteb run "
        "measured, with the Pareto front; models not in mteb's registry highlighted; missing tasks named. "
        'Needs jinja2 and plotly: pip install "rumteb[board]".',
        epilog="example:\n  rumteb board out/demo-results ../shared/data/published/results -o board.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="RESULTS_DIR", help="result folders (mteb layout)"
    )
    parser.add_argument(
        "-b", "--benchmark", default="ruMTEB", help="ruMTEB (default), ruMTEB(v1) or ruMTEB(v1.1)"
    )
    parser.add_argument(
        "-o",
        "--out",
        type=Path,
        default=Path("board.html"),
        metavar="FILE",
        help="the page (default board.html)",
    )
    parser.set_defaults(handler=_cmd_board)


def _cmd_board(args: argparse.Namespace) -> int:
    from rumteb.reporting.board_page import write_board

    path = write_board(args.paths, args.out, benchmark=args.benchmark)
    sys.stdout.write(f"Wrote {path.resolve()}\n")
    return 0
