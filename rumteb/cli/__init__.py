"""The ``rumteb`` command line. ``main(argv) -> int`` is the console script and the test entry point.

One module per command (``rumteb.cli.run``, ``rumteb.cli.table``, ...): each adds its parser with
``add_parser(commands)`` and sets a handler that takes the parsed arguments and returns the exit status. Handlers
only parse and check arguments and call the library (`rumteb.evaluation`, `rumteb.reporting`, `rumteb.cards`,
`rumteb.models`, `rumteb.data`); library imports stay inside them, so ``rumteb --help`` loads neither torch nor
mteb.
"""

from __future__ import annotations

import argparse
import errno
import logging
import sys
import traceback
from collections.abc import Sequence

from rumteb import __version__
from rumteb.cli import (
    align,
    board,
    cards,
    check,
    compare,
    contamination,
    data,
    docs,
    extend_tokenizer,
    merge,
    plot,
    run,
    table,
    tasks,
    train,
)
from rumteb.cli import mteb as mteb_command
from rumteb.cli._options import OPTIONS
from rumteb.errors import ParameterError, RumtebError

logger = logging.getLogger("rumteb")

#: The commands in the order ``rumteb --help`` lists them; each module only parses its arguments and calls the
#: library, and imports nothing heavy (torch, mteb) before its handler runs.
_COMMANDS = (
    run,
    table,
    board,
    compare,
    plot,
    check,
    cards,
    docs,
    extend_tokenizer,
    merge,
    train,
    contamination,
    align,
    mteb_command,
    tasks,
    data,
)

_EPILOG = """\
examples:
  rumteb tasks
  rumteb data pull --benchmark ruMTEB --to ~/rumteb-data      # on a machine with Hub access
  rumteb data verify ~/rumteb-data                            # anywhere, before an offline run
"""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to generate the CLI reference in the docs)."""
    parser = argparse.ArgumentParser(
        prog="rumteb",
        description="ruMTEB, the Russian text-embedding benchmark, on top of mteb.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rumteb {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for command in _COMMANDS:
        command.add_parser(commands)
    return parser


#: A full disk or quota: the user's to fix, whichever code was writing (errno.EDQUOT is missing on some systems).
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    A `rumteb.errors.RumtebError` (a bad value, an unknown name, a missing or damaged file, an unreachable
    server or cluster), a full disk and Ctrl-C are the user's: one ``rumteb: error: ...`` line on stderr (``-v``
    adds the traceback), status 1 (130 for Ctrl-C). Anything else is a bug in rumteb: its traceback, then a line
    asking to report it, status 1. Usage errors are argparse's: status 2.
    """
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["mteb"]:  # everything after it is mteb's, --help included
        args = argparse.Namespace(handler=mteb_command.run_mteb, mteb_args=arguments[1:], verbose=0)
    else:
        args = parser.parse_args(arguments)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args))
    except RumtebError as err:
        message = err.for_options(OPTIONS) if isinstance(err, ParameterError) else str(err)
        return _user_error(message, args.verbose)
    except KeyboardInterrupt:
        sys.stderr.write("rumteb: interrupted\n")
        return 130
    except Exception as err:
        full = _disk_full(err)
        if full is not None:
            where = f" (writing {full.filename})" if full.filename else ""
            return _user_error(f"{full.strerror}{where}. Free space and run again.", args.verbose)
        if args.handler is mteb_command.run_mteb:
            raise  # mteb's own command line: its errors are mteb's, shown as mteb shows them
        return _bug()


def _disk_full(err: BaseException) -> OSError | None:
    """The full-disk (or quota) OSError that ``err`` is or was raised from (a library may wrap it), else None."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError) and current.errno in _DISK_FULL:
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _user_error(message: str, verbose: int) -> int:
    """One ``rumteb: error:`` line; ``-v`` prints the traceback first, with the chained cause (the datasets,
    pyarrow or httpx error behind it)."""
    if verbose:
        traceback.print_exc(file=sys.stderr)
    sys.stderr.write(f"rumteb: error: {message}\n")
    return 1


def _bug() -> int:
    """An exception rumteb did not mean for the user: a bug. Its traceback, and a line asking to report it."""
    traceback.print_exc(file=sys.stderr)
    sys.stderr.write(
        f"rumteb: this is a bug in rumteb {__version__}; please report it with the traceback above and the "
        "command that ran into it\n"
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
