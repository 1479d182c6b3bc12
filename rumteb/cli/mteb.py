"""``rumteb mteb``: mteb's own command line with rumteb's benchmarks registered."""

from __future__ import annotations

import argparse
import sys


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    passthrough = commands.add_parser(
        "mteb",
        add_help=False,
        help="mteb's own command line, with rumteb's benchmarks registered",
        description="Run mteb's command line with rumteb.register() applied, e.g. 'rumteb mteb run -b ruMTEB -m "
        "MODEL'. All arguments are mteb's (see 'rumteb mteb --help').",
    )
    passthrough.add_argument("mteb_args", nargs=argparse.REMAINDER, help="arguments for mteb's command line")
    passthrough.set_defaults(handler=run_mteb)


def run_mteb(args: argparse.Namespace) -> int:
    import rumteb
    from rumteb.errors import DependencyError

    try:
        from mteb.cli.build_cli import build_cli
    except ImportError as err:
        raise DependencyError(
            f"This mteb has no command line module mteb.cli.build_cli ({err}). Install a supported version: "
            "pip install 'mteb>=2.26,<3'."
        ) from err
    rumteb.register()
    parser = build_cli()
    parser.prog = "rumteb mteb"
    namespace = parser.parse_args(args.mteb_args)
    if not hasattr(namespace, "func"):
        parser.print_help(sys.stderr)
        return 2
    namespace.func(namespace)
    return 0
