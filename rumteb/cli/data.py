"""``rumteb data pull`` and ``rumteb data verify``: offline mirrors of the datasets (`rumteb.data`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rumteb.cli._errors import CommandError


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rumteb data pull`` and ``rumteb data verify`` to the command line's subcommands."""
    data = commands.add_parser(
        "data",
        help="pull and verify offline copies of the datasets",
        description="Offline mirrors of the pinned Hub datasets: pull once with Hub access, verify, run anywhere "
        "with --data-dir DIR or RUMTEB_DATA_DIR=DIR.",
    )
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION")
    data_commands.required = True
    pull = data_commands.add_parser(
        "pull",
        help="download the pinned datasets and write manifests",
        description="Download each task's dataset (or each Hub training source of a config, with --config) at "
        "its pinned revision into DIR/<org>/<name>/ and write a manifest (revision, size and sha256 of every "
        "file). Needs Hub access.",
    )
    which = pull.add_mutually_exclusive_group()
    which.add_argument("-b", "--benchmark", default=None, help="all tasks of a benchmark (default: ruMTEB)")
    which.add_argument("-t", "--tasks", nargs="+", metavar="TASK", help="only these tasks")
    which.add_argument(
        "--config",
        metavar="CONFIG",
        help="the Hub training sources (hub: + revision:) of a training config (YAML file or shipped name), "
        "for 'rumteb train' and 'rumteb contamination' with data_dir: DIR",
    )
    pull.add_argument(
        "--to", required=True, type=Path, metavar="DIR", help="the mirror folder (created if missing)"
    )
    pull.set_defaults(handler=_cmd_data_pull)
    check = data_commands.add_parser(
        "verify",
        help="recompute checksums of a mirror",
        description="Recompute the sha256 of every file under DIR and compare with the manifests. Exits 1 naming "
        "every missing, changed or unexpected file.",
    )
    check.add_argument("dir", type=Path, metavar="DIR", help="the mirror folder")
    check.set_defaults(handler=_cmd_data_verify)


def _cmd_data_pull(args: argparse.Namespace) -> int:
    import rumteb
    from rumteb import data

    if args.config is not None:
        manifests = data.pull_repos(_hub_sources(args.config), args.to)
    else:
        tasks = (
            rumteb.get_tasks(args.tasks)
            if args.tasks
            else rumteb.get_tasks(benchmark=args.benchmark or "ruMTEB")
        )
        manifests = data.pull(tasks, args.to)
    for manifest in manifests:
        size = sum(entry.size for entry in manifest.files.values())
        sys.stdout.write(
            f"{manifest.repo_id}@{manifest.revision[:10]}: {len(manifest.files)} files, {size / 1e6:.1f} MB "
            f"({', '.join(manifest.tasks)})\n"
        )
    sys.stdout.write(f"Pulled {len(manifests)} datasets into {args.to}. Use it with --data-dir {args.to}\n")
    return 0


def _hub_sources(config_name: str) -> list[tuple[str, str, str]]:
    from rumteb.recipe.config import load_config, resolve_config

    config = load_config(resolve_config(config_name))
    sources = [
        (d.hub, d.revision, d.name) for d in config.datasets if d.hub is not None and d.revision is not None
    ]
    if not sources:
        raise CommandError(
            f"The training config {config_name!r} has no Hub sources (datasets with hub: and revision:); its "
            "local files need no pull."
        )
    return sources


def _cmd_data_verify(args: argparse.Namespace) -> int:
    from rumteb import data

    report = data.verify(args.dir)
    for problem in report.problems:
        sys.stdout.write(f"PROBLEM {problem}\n")
    for repo_id in report.unverified:
        sys.stdout.write(f"UNVERIFIED {repo_id} (no manifest: made by hand?)\n")
    status = "OK" if report.ok else "FAILED"
    sys.stdout.write(
        f"{status}: {len(report.checked)} datasets checked, {len(report.problems)} problems, "
        f"{len(report.unverified)} without a manifest\n"
    )
    return 0 if report.ok else 1
