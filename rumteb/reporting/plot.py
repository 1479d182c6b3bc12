"""``rumteb plot``: a grouped bar chart of the seven task-type means (x100) of each model, as a PNG (or PDF, SVG);
with ``--pareto``, Mean(Task) against size or speed with the Pareto front highlighted.

Needs matplotlib (``pip install "rumteb[plot]"``). The figure is drawn on matplotlib's Agg canvas directly, so
pyplot's global backend and state are left alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rumteb.errors import MissingExtraError, ParameterError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rumteb.reporting.leaderboard import BenchmarkScores

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

    One group of bars per task type, one bar per model (models as `rumteb.reporting.results.load_results` sorts them). A
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
        ParameterError: Bad ``size``, ``dpi`` or file suffix.

    Example:
        >>> plot_type_means("results", "type-means.png")
        PosixPath('type-means.png')
    """
    out = _check_figure(out, size, dpi, "plot_type_means")
    from rumteb.reporting.leaderboard import score_benchmark
    from rumteb.reporting.results import load_results

    models = load_results(paths)
    figure = _draw([score_benchmark(model, benchmark) for model in models], title, size, dpi)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=dpi)
    return out


def _check_figure(out: str | os.PathLike[str], size: tuple[float, float], dpi: int, owner: str) -> Path:
    """matplotlib present, and a figure size, dpi and file suffix it can use."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise MissingExtraError(_INSTALL) from err
    if len(size) != 2 or not all(isinstance(v, (int, float)) and 0 < v <= 100 for v in size):
        raise ParameterError.invalid(owner, "size", "(width, height) in inches, each in (0, 100]", size)
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 10 <= dpi <= 1000:
        raise ParameterError.invalid(owner, "dpi", "an int between 10 and 1000", dpi)
    path = Path(out)
    suffix = path.suffix.lower().lstrip(".")
    supported = FigureCanvasAgg(Figure()).get_supported_filetypes()
    if suffix not in supported:
        expected = f"a path ending with an image suffix ({', '.join(sorted(supported))})"
        raise ParameterError.invalid(owner, "out", expected, str(path))
    return path


#: The x axes of `plot_pareto`: the label, and whether more is better.
PARETO_X = {
    "params": ("parameters (millions, log scale)", False),
    "throughput": ("texts/s (log scale)", True),
}


def plot_pareto(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    x: str = "params",
    benchmark: str = "ruMTEB",
    title: str | None = None,
    size: tuple[float, float] = (8.0, 5.0),
    dpi: int = 100,
) -> Path:
    """Draw Mean(Task) (x100) of every model against its size or speed, the Pareto front highlighted, and save it.

    A model is on the front when no other model is at least as good on both axes and better on one: fewer
    parameters (``x="params"``) or more texts per second (``x="throughput"``, measured by ``rumteb run``; see
    `rumteb.reporting.costs`), and a higher Mean(Task). Models without a Mean(Task) (missing tasks) or without the x value
    are not drawn; the title says how many, and which.

    Args:
        paths: Result folders in mteb's layout (as for ``rumteb table``).
        out: The figure file; the format follows its suffix.
        x: ``"params"`` or ``"throughput"``.
        benchmark: ``"ruMTEB"`` (alias ``"ruMTEB(v1)"``) or ``"ruMTEB(v1.1)"``.
        title: The title (default: names the benchmark and the axes).
        size: Width and height in inches.
        dpi: Dots per inch.

    Returns:
        The path written.

    Raises:
        MissingExtraError: matplotlib is not installed.
        ResultsError: A path holds no readable ruMTEB results.
        UnknownNameError: Bad ``x``.
        ParameterError: Bad ``size``, ``dpi`` or suffix.
        ResultsError: No model has both values.

    Example:
        >>> plot_pareto("results", "pareto.png", x="params")
        PosixPath('pareto.png')
    """
    if x not in PARETO_X:
        from rumteb._util.lookup import unknown_name_error

        raise unknown_name_error("x axis", x, list(PARETO_X), "Use params or throughput.")
    out = _check_figure(out, size, dpi, "plot_pareto")
    from rumteb.reporting.costs import model_costs
    from rumteb.reporting.leaderboard import score_benchmark
    from rumteb.reporting.results import load_results

    points: list[tuple[str, float, float]] = []
    left_out: list[str] = []
    for model in load_results(paths):
        mean = score_benchmark(model, benchmark).mean_task
        costs = model_costs(model)
        value = costs.n_parameters / 1e6 if x == "params" and costs.n_parameters else costs.texts_per_second
        if mean is None or not value:
            left_out.append(model.model)
        else:
            points.append((model.model, float(value), 100 * mean))
    if not points:
        what = "a parameter count" if x == "params" else "a throughput measured by rumteb run"
        from rumteb.reporting.result_file import (
            ResultsError,  # not at the top: it loads mteb (rumteb plot --help)
        )

        raise ResultsError(
            f"No model under {', '.join(str(p) for p in _listed(paths))} has both a Mean(Task) on {benchmark} and {what}; nothing to plot. "
            + ("Run the models with rumteb run, or use --x params." if x == "throughput" else "")
        )
    figure = _draw_pareto(points, left_out, x, benchmark if title is None else None, title, size, dpi)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=dpi)
    return out


def _listed(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str | os.PathLike[str]]:
    return [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)


def pareto_front(points: Sequence[tuple[float, float]], more_x_is_better: bool) -> list[int]:
    """Indices of the points no other point dominates (y: more is better), sorted by x.

    Example:
        >>> pareto_front([(10, 50.0), (100, 60.0), (50, 40.0)], more_x_is_better=False)
        [0, 1]
    """
    sign = 1 if more_x_is_better else -1

    def dominated(i: int) -> bool:
        xi, yi = points[i]
        return any(
            sign * xj >= sign * xi and yj >= yi and (sign * xj > sign * xi or yj > yi)
            for j, (xj, yj) in enumerate(points)
            if j != i
        )

    return sorted((i for i in range(len(points)) if not dominated(i)), key=lambda i: points[i][0])


def _draw_pareto(
    points: Sequence[tuple[str, float, float]],
    left_out: Sequence[str],
    x: str,
    benchmark: str | None,
    title: str | None,
    size: tuple[float, float],
    dpi: int,
) -> Figure:
    """One scatter of all models (container 0) and one of the front (container 1), the front joined by a line."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    label, more_is_better = PARETO_X[x]
    front = pareto_front([(px, py) for _, px, py in points], more_is_better)
    figure = Figure(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.scatter([p[1] for p in points], [p[2] for p in points], color="0.6", label="model", zorder=2)
    axes.scatter(
        [points[i][1] for i in front],
        [points[i][2] for i in front],
        color="tab:red",
        label="Pareto front",
        zorder=3,
    )
    axes.plot(
        [points[i][1] for i in front], [points[i][2] for i in front], color="tab:red", alpha=0.5, zorder=1
    )
    for name, px, py in points:
        axes.annotate(name, (px, py), textcoords="offset points", xytext=(4, 4), fontsize=7)
    axes.set_xscale("log")
    axes.margins(x=0.2)  # room for the labels right of the points
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda value, _: f"{value:g}")
    axes.xaxis.set_major_formatter(plain)
    axes.xaxis.set_minor_formatter(plain)
    axes.tick_params(axis="x", which="minor", labelsize=7)
    axes.set_xlabel(label)
    axes.set_ylabel("Mean(Task) (x100)")
    axes.grid(alpha=0.3)
    heading = (
        title if title is not None else f"{benchmark}: quality vs {'size' if x == 'params' else 'speed'}"
    )
    if left_out:
        heading += f"\n(not drawn, no {'size' if x == 'params' else 'speed'} or missing tasks: {', '.join(left_out)})"
    axes.set_title(heading, fontsize=9)
    axes.legend(fontsize=7, loc="lower right")
    return figure


def _draw(
    scores: Sequence[BenchmarkScores], title: str | None, size: tuple[float, float], dpi: int
) -> Figure:
    """The figure: one bar container per model, in order, holding only the type means it has."""
    kinds = list(scores[0].types)  # rumteb.reporting.leaderboard.TASK_TYPES, in the leaderboard's order
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
