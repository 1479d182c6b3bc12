"""``rumteb docs``: generate or check the docs site's generated pages (`rumteb.cards`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rumteb.cards import DOCS_DIR, check_docs, render_docs_pages, write_docs
from rumteb.cli.cards import _check_flags, _report


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rumteb docs`` to the command line's subcommands."""
    docs = commands.add_parser(
        "docs",
        help="generate or check the docs site's generated pages",
        description="Write the generated pages of the docs site: tasks.md (the task table, from task metadata) "
        "and reference/cli.md (the CLI reference, from the argument parser). With --check, write nothing and "
        "exit 1 naming every page that is missing or stale.",
    )
    docs.add_argument(
        "--check", action="store_true", help="exit 1 if a page is missing or stale; write nothing"
    )
    docs.add_argument(
        "--dir", type=Path, default=DOCS_DIR, metavar="DIR", help="the docs folder (default: docs/src)"
    )
    docs.add_argument("--diff", action="store_true", help="with --check, also print what would change")
    docs.set_defaults(handler=_cmd_docs)


def _cmd_docs(args: argparse.Namespace) -> int:
    import sys

    _check_flags(args)
    if args.check:
        problems = check_docs(_full_parser(), args.dir)

        def render() -> dict[Path, str]:
            return {Path(args.dir) / rel: text for rel, text in render_docs_pages(_full_parser()).items()}

        return _report(problems, "generated docs pages", "rumteb docs", render, args.diff)
    changed = write_docs(_full_parser(), args.dir)
    for path in changed:
        sys.stdout.write(f"wrote {path}\n")
    sys.stdout.write(f"{len(changed)} pages changed in {args.dir}.\n")
    return 0


def _full_parser() -> argparse.ArgumentParser:
    from rumteb.cli import build_parser  # the package imports this module: not at import time

    return build_parser()
