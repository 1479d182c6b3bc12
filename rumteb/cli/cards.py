"""``rumteb cards``: generate or check the dataset cards (`rumteb.cards`); its check report is shared with ``rumteb docs``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from rumteb.cards import CARDS_DIR, Difference, check_cards, diff, expected_cards, write_cards
from rumteb.errors import ParameterError


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rumteb cards`` to the command line's subcommands."""
    cards = commands.add_parser(
        "cards",
        help="generate or check the dataset cards",
        description="Write datasets_cards/<org>__<name>.md, a Hugging Face Hub dataset card for each of the Hub "
        "datasets that ruMTEB v1 and v1.1 read, from rumteb's task metadata, mteb's descriptive statistics and the "
        "hand-written sources in datasets_cards/_sources/. With --check, write nothing and exit 1 naming every "
        "card that is missing or stale.",
    )
    cards.add_argument(
        "--check", action="store_true", help="exit 1 if a card is missing or stale; write nothing"
    )
    cards.add_argument(
        "--dir",
        type=Path,
        default=CARDS_DIR,
        metavar="DIR",
        help="the cards folder (default: datasets_cards)",
    )
    cards.add_argument("--diff", action="store_true", help="with --check, also print what would change")
    cards.set_defaults(handler=_cmd_cards)


def _report(
    problems: Sequence[Difference],
    what: str,
    command: str,
    render: Callable[[], Mapping[Path, str]],
    show_diff: bool,
) -> int:

    if not problems:
        sys.stdout.write(f"OK: the {what} are up to date.\n")
        return 0
    rendered = render() if show_diff else {}
    for problem in problems:
        sys.stdout.write(f"STALE {problem}\n")
        if problem.path in rendered:
            sys.stdout.write(diff(problem.path, rendered[problem.path]))
    sys.stdout.write(
        f"FAILED: {len(problems)} {what} out of date. Run '{command}' from the repository root.\n"
    )
    return 1


def _check_flags(args: argparse.Namespace) -> None:
    if args.diff and not args.check:
        raise ParameterError("The '--diff' option shows what --check finds stale; use it with --check.")


def _cmd_cards(args: argparse.Namespace) -> int:

    _check_flags(args)
    if args.check:
        problems = check_cards(args.dir)
        return _report(
            problems, "dataset cards", "rumteb cards", lambda: expected_cards(args.dir)[0], args.diff
        )
    changed = write_cards(args.dir)
    for path in changed:
        sys.stdout.write(f"{'deleted' if not path.exists() else 'wrote'} {path}\n")
    sys.stdout.write(f"{len(changed)} cards changed in {args.dir}.\n")
    return 0
