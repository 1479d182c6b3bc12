"""``rumteb tasks``: list the tasks of a benchmark."""

from __future__ import annotations

import argparse
import sys


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rumteb tasks`` to the command line's subcommands."""
    tasks = commands.add_parser(
        "tasks", help="list the tasks of a benchmark", description="List ruMTEB's tasks."
    )
    tasks.add_argument(
        "-b", "--benchmark", default="ruMTEB", help="ruMTEB (default), ruMTEB(v1) or ruMTEB(v1.1)"
    )
    tasks.add_argument("--all", action="store_true", help="every task rumteb defines (v1 and v1.1)")
    tasks.add_argument(
        "--format", choices=["md", "csv", "json"], default="md", help="output format (default md)"
    )
    tasks.set_defaults(handler=_cmd_tasks)


def _cmd_tasks(args: argparse.Namespace) -> int:
    import json

    import rumteb
    from rumteb.tasks import TASKS_BY_NAME

    tasks = (
        [rumteb.get_task(n) for n in TASKS_BY_NAME]
        if args.all
        else rumteb.get_tasks(benchmark=args.benchmark)
    )
    rows = [
        {
            "name": t.metadata.name,
            "type": t.metadata.type,
            "dataset": t.metadata.dataset["path"],
            "revision": t.metadata.dataset["revision"][:10],
            "eval_splits": ",".join(t.eval_splits),
            "subsets": ",".join(t.hf_subsets),
            "main_score": t.metadata.main_score,
            "license": t.metadata.license or "",
        }
        for t in tasks
    ]
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    elif args.format == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        header = list(rows[0])
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(str(r[h]) for h in header) + " |" for r in rows]
        sys.stdout.write("\n".join(lines) + "\n")
    return 0
