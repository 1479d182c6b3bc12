"""``rumteb data pull`` and ``rumteb data verify``: offline mirrors of the datasets (`rumteb.data`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


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
        help="the Hub training sources (hub:) of a training config (YAML file or shipped name), for 'rumteb "
        "train' and 'rumteb contamination' with data_dir: DIR. A 'revision: pin-at-pull' is resolved to the commit "
        "downloaded and written to DIR/<config name>.lock.yaml; each source's declared columns are checked against "
        "its data, and a source with 'columns: unknown' has its columns printed",
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
        return _pull_config(args.config, args.to)
    tasks = (
        rumteb.get_tasks(args.tasks) if args.tasks else rumteb.get_tasks(benchmark=args.benchmark or "ruMTEB")
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


def _pull_config(config_name: str, to: Path) -> int:
    from rumteb.recipe.config import load_config, resolve_config
    from rumteb.recipe.lock import config_name as name_of
    from rumteb.recipe.source_pull import pull_sources

    path = resolve_config(config_name)
    name = name_of(path)
    result = pull_sources(load_config(path), name, to, config_path=path)
    for source in result.sources:
        sys.stdout.write(
            f"{source.spec.name}: {source.spec.hub}@{source.commit} ({len(source.files)} files)\n"
        )
    for source in result.unknown:
        sys.stdout.write(
            f"{source.spec.name} says 'columns: unknown'; the columns of {source.spec.hub}@{source.commit[:10]} "
            "are:\n" + "".join(f"  {line}\n" for line in source.columns)
        )
        sys.stdout.write(
            f"  -> write anchor: and positive: (and optional negatives:, where:) for {source.spec.name!r} in your "
            "copy of the config ('rumteb train --dump-config NAME > my.yaml') and remove 'columns: unknown'\n"
        )
    sys.stdout.write(
        f"Pulled {len(result.sources)} sources into {to}; wrote the lock file {result.lock}. Train with data_dir: "
        f"{to} (or RUMTEB_DATA_DIR={to})\n"
    )
    return 0


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
