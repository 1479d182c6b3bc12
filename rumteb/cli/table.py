"""``rumteb table``: the leaderboard table of result folders (`rumteb.reporting`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    table = commands.add_parser(
        "table",
        help="leaderboard table of results on ruMTEB",
        description="One row per model found under the result folders (mteb's layout): the 7 task-type means, "
        "Mean(Task) and Mean(TaskType), x100. A model missing tasks shows n/a where they count, with a note.",
    )
    table.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="result folders (mteb layout)")
    table.add_argument(
        "-b", "--benchmark", default="ruMTEB", help="ruMTEB (default), ruMTEB(v1) or ruMTEB(v1.1)"
    )
    table.add_argument("--format", choices=["md", "csv", "json", "latex"], default="md", help="default md")
    table.add_argument("--skip-invalid", action="store_true", help="skip unreadable result files (reported)")
    table.add_argument(
        "--columns",
        default="",
        metavar="GROUPS",
        help="add column groups, comma-separated: board (instead of the default columns: the leaderboard's "
        "own: Rank (Borda), Zero-shot, parameters, Embedding Dimensions, Max Tokens, the means, Release Date), size (Params(M), Dim: from rumteb run, model_meta.json or "
        "mteb's registry) and speed (Texts/s, Tokens/s, Device: measured by rumteb run while encoding; compare "
        "only runs on the same hardware)",
    )
    table.set_defaults(handler=_cmd_table)


def _cmd_table(args: argparse.Namespace) -> int:
    from rumteb.reporting import costs
    from rumteb.reporting.leaderboard import summary_table, table_notes
    from rumteb.reporting.results import load_results
    from rumteb.reporting.table import format_table

    board = "board" in [group.strip() for group in args.columns.split(",")]
    groups = costs.parse_columns([g for g in args.columns.split(",") if g.strip() != "board"])
    models = load_results(args.paths, errors="skip" if args.skip_invalid else "raise")
    if board:
        from rumteb.reporting.ranking import board_notes, board_rows

        rows = board_rows(models, args.benchmark)
        notes = board_notes(models, args.benchmark)
        embed = args.format in ("md", "latex")
        sys.stdout.write(format_table(rows, args.format, notes=notes if embed else ()))
        for note in () if embed else notes:
            sys.stderr.write(f"note: {note}\n")
        return 0
    rows = summary_table(models, args.benchmark)
    for row, model in zip(rows, models, strict=True):
        row.update(costs.cost_columns(costs.model_costs(model), groups) if groups else {})
    notes = table_notes(models, args.benchmark)
    if "speed" in groups:
        notes.append(
            "Texts/s, Tokens/s: measured by rumteb run while encoding, on the Device shown (n/a: not run by "
            "rumteb run); compare speeds measured on one machine only."
        )
    embed = args.format in ("md", "latex")
    sys.stdout.write(format_table(rows, args.format, notes=notes if embed else ()))
    if not embed:
        for note in notes:
            sys.stderr.write(f"note: {note}\n")
    return 0
