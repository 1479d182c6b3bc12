"""``rumteb plot``: bar chart of task-type means, or the Pareto plot (`rumteb.reporting.plot`)."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

from rumteb.reporting.plot import PARETO_X, plot_pareto, plot_type_means


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rumteb plot`` to the command line's subcommands."""
    parser = commands.add_parser(
        "plot",
        help="bar chart of the task-type means of models",
        description="A grouped bar chart of the 7 ruMTEB task-type means (x100) of every model found under the "
        "result folders (mteb's layout, as for 'rumteb table'): one group per task type, one bar per model. A "
        "type mean the model lacks tasks for is left out (marked n/a, named in the legend), never drawn as 0. "
        "With --pareto: Mean(Task) against the parameter count (--x params) or the texts/s rumteb run measured "
        "(--x throughput), log scale, the models no other beats on both axes (the Pareto front) in red. "
        'Needs matplotlib: pip install "rumteb[plot]".',
        epilog="examples:\n  rumteb plot results/ published/results --out type-means.png --dpi 150\n"
        "  rumteb plot results/ published/results --out pareto.png --pareto --x params",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="result folders (mteb layout)")
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="FIG.png",
        help="the figure file; the format follows the suffix (png, pdf, svg)",
    )
    parser.add_argument(
        "-b", "--benchmark", default="ruMTEB", help="ruMTEB (default), ruMTEB(v1) or ruMTEB(v1.1)"
    )
    parser.add_argument("--title", default=None, help="figure title (default: the benchmark's name)")
    parser.add_argument(
        "--size",
        nargs=2,
        type=float,
        default=(10.0, 5.0),
        metavar=("WIDTH", "HEIGHT"),
        help="figure size in inches (default 10 5)",
    )
    parser.add_argument("--dpi", type=int, default=100, help="dots per inch (default 100: a 1000x500 PNG)")
    parser.add_argument(
        "--pareto",
        action="store_true",
        help="instead: Mean(Task) against size or speed (--x), the Pareto front highlighted",
    )
    parser.add_argument(
        "--x",
        choices=list(PARETO_X),
        default="params",
        help="x axis of --pareto: params (parameter count, default) or throughput (texts/s measured by rumteb run)",
    )
    parser.set_defaults(handler=_cmd_plot)


def _cmd_plot(args: argparse.Namespace) -> int:
    draw = partial(plot_pareto, x=args.x) if args.pareto else plot_type_means
    path = draw(
        args.paths,
        args.out,
        benchmark=args.benchmark,
        title=args.title,
        size=(args.size[0], args.size[1]),
        dpi=args.dpi,
    )
    sys.stdout.write(f"Wrote {path}\n")
    return 0
