"""``rumteb plot``: a grouped bar chart of the seven task-type means (x100) of each model, as a PNG (or PDF, SVG).

Needs matplotlib (``pip install "rumteb[plot]"``). The figure is drawn on matplotlib's Agg canvas directly, so
pyplot's global backend and state are left alone.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rumteb.results import BenchmarkScores

#: Short x-axis labels for the task types.
_LABELS = {
    "Classification": "Classification",
    "Clustering": "Clustering",
    "MultilabelClassification": "Multilabel\nClassification",
    "PairClassification": "Pair\nClassification",
    "Reranking": "Reranking",
    "Retrieval": "Retrieval",
    "STS": "STS",
}
_INSTALL = 'rumteb plot needs matplotlib, which is not installed. Install it with: pip install "rumteb[plot]"'


class MissingExtraError(ImportError):
    """An optional dependency is missing; the message names the extra to install."""


def plot_type_means(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    benchmark: str = "ruMTEB",
    title: str | None = None,
    size: tuple[float, float] = (10.0, 5.0),
    dpi: int = 100,
) -> Path:
    """Draw the 7 task-type means (x100) of every model under ``paths`` as grouped bars and save the figure.

    One group of bars per task type, one bar per model (models as `rumteb.results.load_results` sorts them). A
    type mean that needs a task the model lacks is not drawn: its bar is absent and marked ``n/a``, the model's
    legend entry names the missing types, and the title says so. It is never drawn as 0.

    Args:
        paths: Result folders in mteb's layout (as for ``rumteb table``).
        out: The figure file; the format follows its suffix (``.png``, ``.pdf``, ``.svg``...).
        benchmark: ``"ruMTEB"`` (alias ``"ruMTEB(v1)"``) or ``"ruMTEB(v1.1)"``.
        title: The title (default: the benchmark's name).
        size: Width and height in inches; a PNG is ``size * dpi`` pixels (no tight cropping).
        dpi: Dots per inch.

    Returns:
        The path written.

    Raises:
        MissingExtraError: matplotlib is not installed (an ImportError naming ``pip install "rumteb[plot]"``).
        ResultsError: A path holds no readable ruMTEB results.
        LookupError: Unknown benchmark.
        ValueError: Bad ``size``, ``dpi`` or file suffix.

    Example:
        >>> plot_type_means("results", "type-means.png")
        PosixPath('type-means.png')
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise MissingExtraError(_INSTALL) from err
    if len(size) != 2 or not all(isinstance(v, (int, float)) and 0 < v <= 100 for v in size):
        raise ValueError(
            f"The 'size' parameter of plot_type_means must be (width, height) in inches, each in (0, 100]. "
            f"Got {size!r} instead."
        )
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 10 <= dpi <= 1000:
        raise ValueError(
            f"The 'dpi' parameter of plot_type_means must be an int between 10 and 1000. Got {dpi!r} instead."
        )
    out = Path(out)
    suffix = out.suffix.lower().lstrip(".")
    supported = FigureCanvasAgg(Figure()).get_supported_filetypes()
    if suffix not in supported:
        raise ValueError(
            "The 'out' parameter of plot_type_means must end with an image suffix "
            f"({', '.join(sorted(supported))}). Got {str(out)!r} instead."
        )
    from rumteb.results import load_results, score_benchmark

    models = load_results(paths)
    figure = _draw([score_benchmark(model, benchmark) for model in models], title, size, dpi)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=dpi)
    return out


def _draw(
    scores: Sequence[BenchmarkScores], title: str | None, size: tuple[float, float], dpi: int
) -> Figure:
    """The figure: one bar container per model, in order, holding only the type means it has."""
    kinds = list(scores[0].types)  # rumteb.results.TASK_TYPES, in the leaderboard's order
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    width = 0.8 / max(len(scores), 1)
    any_missing = False
    colors = _colors(len(scores))
    for i, result in enumerate(scores):
        offsets = [t + (i - (len(scores) - 1) / 2) * width for t in range(len(kinds))]
        values = [result.types[kind] for kind in kinds]
        present = [(x, 100 * v) for x, v in zip(offsets, values, strict=True) if v is not None]
        absent = [kind for kind, v in zip(kinds, values, strict=True) if v is None]
        label = result.model + (f" (n/a: {', '.join(absent)})" if absent else "")
        axes.bar([x for x, _ in present], [v for _, v in present], width, label=label, color=colors[i])
        for x, v in zip(offsets, values, strict=True):
            if v is None:
                any_missing = True
                axes.text(x, 0, "n/a", rotation=90, ha="center", va="bottom", fontsize=7, color="0.35")
    axes.set_xticks(range(len(kinds)), [_LABELS.get(kind, kind) for kind in kinds], fontsize=8)
    axes.set_ylabel("mean main score (x100)")
    axes.axhline(0, color="black", linewidth=0.6)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    heading = title if title is not None else f"{scores[0].benchmark}: task-type means"
    if any_missing:
        heading += "\n(n/a: no bar where a model lacks a task of that type)"
    axes.set_title(heading, fontsize=10)
    axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=min(3, max(len(scores), 1)))
    return figure


def _colors(n: int) -> list[tuple[float, float, float, float]]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def register_cli(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rumteb plot`` to the command line's subcommands."""
    parser = commands.add_parser(
        "plot",
        help="bar chart of the task-type means of models",
        description="A grouped bar chart of the 7 ruMTEB task-type means (x100) of every model found under the "
        "result folders (mteb's layout, as for 'rumteb table'): one group per task type, one bar per model. A "
        "type mean the model lacks tasks for is left out (marked n/a, named in the legend), never drawn as 0. "
        'Needs matplotlib: pip install "rumteb[plot]".',
        epilog="example:\n  rumteb plot results/ published/results --out type-means.png --dpi 150",
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
    parser.set_defaults(handler=_cmd_plot)


def _cmd_plot(args: argparse.Namespace) -> int:
    try:
        path = plot_type_means(
            args.paths,
            args.out,
            benchmark=args.benchmark,
            title=args.title,
            size=(args.size[0], args.size[1]),
            dpi=args.dpi,
        )
    except MissingExtraError as err:
        sys.stderr.write(f"rumteb: error: {err}\n")
        return 1
    sys.stdout.write(f"Wrote {path}\n")
    return 0
