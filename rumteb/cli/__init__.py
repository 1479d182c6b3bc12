"""The ``rumteb`` command line. ``main(argv) -> int`` is the console script and the test entry point.

One module per command (``rumteb.cli.run``, ``rumteb.cli.table``, ...): each adds its parser with
``add_parser(commands)`` and sets a handler that takes the parsed arguments and returns the exit status. Handlers
only parse and check arguments and call the library (`rumteb.evaluation`, `rumteb.reporting`, `rumteb.cards`,
`rumteb.models`, `rumteb.data`); library imports stay inside them, so ``rumteb --help`` loads neither torch nor
mteb.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from rumteb import __version__
from rumteb.cli import (
    align,
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
from rumteb.cli._errors import CommandError

logger = logging.getLogger("rumteb")

#: The commands in the order ``rumteb --help`` lists them; each module only parses its arguments and calls the
#: library, and imports nothing heavy (torch, mteb) before its handler runs.
_COMMANDS = (
    run,
    table,
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (errors are printed to stderr, status 1 or 2)."""
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["mteb"]:  # everything after it is mteb's, --help included
        args = argparse.Namespace(handler=mteb_command.run_mteb, mteb_args=arguments[1:], verbose=0)
    else:
        args = parser.parse_args(arguments)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from rumteb.data import DataError

    try:
        return int(args.handler(args))
    except (LookupError, DataError, ValueError, OSError, CommandError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        if isinstance(err, OSError) and type(err).__name__ == "ResultWriteError":
            message = err.strerror  # names the folder already; the errno prefix adds nothing
        if (
            args.verbose
        ):  # -v: the traceback, with the chained cause (the datasets or pyarrow error behind it)
            import traceback

            traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"rumteb: error: {message}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("rumteb: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
