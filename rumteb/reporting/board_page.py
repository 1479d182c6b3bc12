"""``rumteb board``: the leaderboard of a set of result folders as one self-contained HTML page.

The page holds everything inline (plotly.js, the charts' data, its own small script and style sheet), so it opens
from disk with no server and no network. It shows the board's summary table (`rumteb.reporting.ranking.board_rows`:
Rank (Borda), Zero-shot, sizes, the means; the same cells as ``rumteb table --columns board``), sortable by every
column; filters (zero-shot only, size range, task types, complete models only); the per-task table; Mean (Task)
against size, and against the texts/s ``rumteb run`` measured where a model has it, each with its Pareto front;
models that are not in mteb's registry (the user's own) highlighted; and each model's missing tasks named.

Gotcha: ranks and means are computed over the whole benchmark when the page is written. The filters hide rows,
columns and points; they do not re-rank.

Needs Jinja2 and plotly (``pip install "rumteb[board]"``); the page is about 5 MB, most of it plotly.js.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rumteb.errors import MissingExtraError
from rumteb.reporting.leaderboard import TASK_TYPES, BenchmarkScores, score_benchmark
from rumteb.reporting.table import cell_text

_INSTALL = 'rumteb board needs jinja2 and plotly, which are not installed. Install them with: pip install "rumteb[board]"'
#: Summary columns sorted ascending on the first click (the rest descending: higher is better).
_ASCENDING_FIRST = {"Rank (Borda)", "Model", "Zero-shot source"}
_TEXT_COLUMNS = {"Model", "Zero-shot source", "Release Date"}


@dataclass(frozen=True)
class BoardModel:
    """One model on the board page.

    Attributes:
        row: Its row of `rumteb.reporting.ranking.board_rows`.
        scores: Its task scores and missing tasks (`rumteb.reporting.leaderboard.score_benchmark`).
        own: Not in mteb's model registry (the user's own model): highlighted.
        texts_per_second: Texts encoded per second as ``rumteb run`` measured (None: not measured).
    """

    row: Mapping[str, Any]
    scores: BenchmarkScores
    own: bool
    texts_per_second: float | None


def write_board(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    benchmark: str = "ruMTEB",
) -> Path:
    """Write the board page of every model under ``paths`` to ``out`` (see the module docstring).

    Args:
        paths: Result folders in mteb's layout (as for ``rumteb table``).
        out: The HTML file to write (its folder is made).
        benchmark: ``"ruMTEB"`` (alias ``"ruMTEB(v1)"``) or ``"ruMTEB(v1.1)"``.

    Returns:
        The path written.

    Raises:
        MissingExtraError: Jinja2 or plotly is not installed.
        ResultsError: A path holds no readable ruMTEB results.
        LookupError: Unknown benchmark.

    Example:
        >>> write_board(["out/demo-results", "published/results"], "board.html")
        PosixPath('board.html')
    """
    _check_extra()
    from rumteb.benchmark import canonical_benchmark_name
    from rumteb.reporting import costs
    from rumteb.reporting.ranking import board_notes, board_rows
    from rumteb.reporting.results import load_results

    benchmark = canonical_benchmark_name(benchmark)
    models = load_results(paths)
    by_name = {model.model: model for model in models}
    board = [
        BoardModel(
            row=row,
            scores=score_benchmark(by_name[row["Model"]], benchmark),
            own=not _registered(row["Model"]),
            texts_per_second=costs.model_costs(by_name[row["Model"]]).texts_per_second,
        )
        for row in board_rows(models, benchmark)
    ]
    html = render_board(board, benchmark=benchmark, notes=board_notes(models, benchmark))
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target


def render_board(models: Sequence[BoardModel], *, benchmark: str, notes: Sequence[str] = ()) -> str:
    """The page's HTML for ``models`` (in rank order), with ``notes`` (`board_notes`) listed under the table.

    Example:
        >>> html = render_board(models, benchmark="ruMTEB", notes=[])
        >>> html.startswith("<!DOCTYPE html>")
        True
    """
    _check_extra()
    import jinja2
    from plotly.offline import get_plotlyjs

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("rumteb.reporting", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    columns = list(models[0].row) if models else []
    tasks = _task_order(models[0].scores) if models else []
    return environment.get_template("board.html.j2").render(
        benchmark=benchmark,
        columns=[_column(name) for name in columns],
        summary=[_summary_row(model, columns) for model in models],
        task_types=[kind for kind in TASK_TYPES if any(t == kind for _, t in tasks)],
        tasks=[{"name": name, "type": kind} for name, kind in tasks],
        per_task=[_task_row(model, tasks) for model in models],
        notes=list(notes),
        charts=_charts(models, [name for name, _ in tasks]),
        plotly_js=get_plotlyjs(),
    )


def _check_extra() -> None:
    try:
        import jinja2  # noqa: F401
        import plotly  # noqa: F401
    except ImportError as err:
        raise MissingExtraError(_INSTALL) from err


def _registered(name: str) -> bool:
    import mteb

    try:
        mteb.get_model_meta(name)
    except (KeyError, ValueError, LookupError):
        return False
    return True


def _task_order(scores: BenchmarkScores) -> list[tuple[str, str]]:
    from rumteb.tasks import TASKS_BY_NAME

    kinds = {name: TASKS_BY_NAME[name].metadata.type for name in scores.tasks}
    return sorted(kinds.items(), key=lambda item: TASK_TYPES.index(item[1]))  # stable: benchmark order within


def _column(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": name if name in TASK_TYPES else "",
        "text": name in _TEXT_COLUMNS,
        "first": "asc" if name in _ASCENDING_FIRST else "desc",
    }


def _summary_row(model: BoardModel, columns: Sequence[str]) -> dict[str, Any]:
    row = model.row
    cells = [
        {"text": cell_text(row[name], "n/a", name), "value": "" if row[name] is None else str(row[name])}
        for name in columns
    ]
    params = row.get("Total Parameters (B)")
    return {
        "model": row["Model"],
        "own": model.own,
        "missing": list(model.scores.missing),
        "zero_shot": row.get("Zero-shot"),
        "params_m": "" if params is None else round(1000 * params, 3),
        "cells": cells,
    }


def _task_row(model: BoardModel, tasks: Sequence[tuple[str, str]]) -> dict[str, Any]:
    cells = []
    for name, kind in tasks:
        score = model.scores.tasks.get(name)
        value = None if score is None else round(100 * score, 2)
        cells.append(
            {
                "type": kind,
                "text": cell_text(value, "n/a"),
                "value": "" if value is None else str(value),
                "why": model.scores.missing.get(name, ""),
            }
        )
    return {"model": model.row["Model"], "own": model.own, "cells": cells}


def _charts(models: Sequence[BoardModel], tasks: Sequence[str]) -> list[dict[str, str]]:
    from rumteb.reporting.board_plots import ChartPoint, score_chart

    common = [t for t in tasks if all(m.scores.tasks.get(t) is not None for m in models)]
    y_titles = ["Mean (Task)"]
    if common and len(common) < len(tasks):
        y_titles.append(f"Mean over the {len(common)} tasks every model ran")
    # The axis that plots more models comes first: a model run on a few tasks has no Mean (Task).
    first = 1 if len(y_titles) > 1 and any(m.scores.mean_task is None for m in models) else 0
    y_titles = y_titles[first:] + y_titles[:first]

    def ys(model: BoardModel) -> tuple[float | None, ...]:
        mean_task = model.scores.mean_task
        shared = sum(model.scores.tasks[t] or 0.0 for t in common) / len(common) if common else None
        values = (mean_task, shared)[: len(y_titles)]
        values = values[first:] + values[:first]
        return tuple(None if v is None else round(100 * v, 2) for v in values)

    charts = []
    sizes = [
        ChartPoint(m.row["Model"], m.own, _params(m.row.get("Total Parameters (B)")), ys(m)) for m in models
    ]
    charts.append(
        {
            "title": "Score against size",
            "about": "Total parameters (log scale). The dashed line joins the Pareto front: no other model is "
            "both smaller and better.",
            "html": score_chart(
                sizes,
                x_title="Total parameters",
                y_titles=y_titles,
                more_x_is_better=False,
                div_id="chart-size",
            ),
        }
    )
    speeds = [ChartPoint(m.row["Model"], m.own, m.texts_per_second, ys(m)) for m in models]
    if any(p.x is not None for p in speeds):
        charts.append(
            {
                "title": "Score against throughput",
                "about": "Texts per second measured by rumteb run while encoding (log scale; only models run by "
                "rumteb run; compare runs on the same hardware only). The dashed line joins the Pareto front.",
                "html": score_chart(
                    speeds, x_title="Texts/s", y_titles=y_titles, more_x_is_better=True, div_id="chart-speed"
                ),
            }
        )
    return charts


def _params(billions: float | None) -> float | None:
    return None if billions is None else billions * 1e9
