"""The charts of the board page (`rumteb.reporting.board_page`): score against size or speed, drawn with plotly.

Each chart is a plotly figure rendered as an HTML ``<div>`` without plotly.js (the page inlines plotly.js once).
One trace per model, its ``legendgroup`` the model's name, so that the page's filters can hide a model's point;
the last trace is the Pareto front (the models no other model beats on both axes). A menu switches the y axis
between Mean (Task), which only complete models have, and the mean over the tasks every model ran (when that is
fewer than all), so that a model run on a few tasks still shows beside the others.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rumteb.reporting.plot import pareto_front

#: The ``legendgroup`` of the Pareto-front trace (model traces use the model's name).
FRONT_GROUP = "__pareto_front__"
_OWN_COLOR = "#d62728"
_COLOR = "#1f77b4"


@dataclass(frozen=True)
class ChartPoint:
    """One model on a chart. ``x`` None: unknown (left out); a y value None: the model lacks tasks it needs."""

    model: str
    own: bool
    x: float | None
    ys: tuple[float | None, ...]


def score_chart(
    points: Sequence[ChartPoint],
    *,
    x_title: str,
    y_titles: Sequence[str],
    more_x_is_better: bool,
    div_id: str,
) -> str:
    """A scatter of the models (log x axis) with its Pareto front, as an HTML ``<div>`` (no plotly.js in it).

    Args:
        points: The models; ``ys`` holds one value per entry of ``y_titles``.
        x_title: The x axis title.
        y_titles: The y axes the menu offers (the first is shown first).
        more_x_is_better: False for size (smaller is better), True for speed.
        div_id: The ``id`` of the chart's ``<div>``.

    Example:
        >>> html = score_chart(
        ...     [ChartPoint("a/m", False, 1e8, (55.0,)), ChartPoint("local/x", True, 2e7, (50.0,))],
        ...     x_title="Total parameters", y_titles=["Mean (Task)"], more_x_is_better=False, div_id="size",
        ... )
        >>> 'id="size"' in html
        True
    """
    import plotly.graph_objects as go

    figure = go.Figure()
    for point in points:
        color = _OWN_COLOR if point.own else _COLOR
        x, y = _xy(point, 0)
        figure.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="markers+text",
                name=point.model,
                legendgroup=point.model,
                text=[point.model.split("/")[-1]],
                textposition="top center",
                cliponaxis=False,
                marker={
                    "size": 14 if point.own else 10,
                    "color": color,
                    "symbol": "star" if point.own else "circle",
                },
                hovertemplate=f"{point.model}<br>%{{x:.3s}}<br>%{{y:.2f}}<extra></extra>",
            )
        )
    fronts = [_front(points, axis, more_x_is_better) for axis in range(len(y_titles))]
    figure.add_trace(
        go.Scatter(
            x=fronts[0][0],
            y=fronts[0][1],
            mode="lines",
            name="Pareto front",
            legendgroup=FRONT_GROUP,
            line={"color": "#7f7f7f", "dash": "dash"},
            hoverinfo="skip",
        )
    )
    figure.update_layout(
        xaxis={"type": "log", "title": {"text": x_title}},
        yaxis={"title": {"text": y_titles[0]}},
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        width=590,
        height=420,
        template="plotly_white",
        showlegend=False,
    )
    if len(y_titles) > 1:
        figure.update_layout(updatemenus=[_y_menu(points, y_titles, fronts)])
    html: str = figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config={"displaylogo": False},
    )
    return html


def _xy(point: ChartPoint, axis: int) -> tuple[list[float], list[float]]:
    y = point.ys[axis]
    if point.x is None or y is None or not math.isfinite(point.x) or point.x <= 0:
        return [], []
    return [point.x], [y]


def _front(
    points: Sequence[ChartPoint], axis: int, more_x_is_better: bool
) -> tuple[list[float], list[float]]:
    usable = [xy for xy in (_xy(p, axis) for p in points) if xy[0]]
    pairs = [(x[0], y[0]) for x, y in usable]
    front = pareto_front(pairs, more_x_is_better)
    return [pairs[i][0] for i in front], [pairs[i][1] for i in front]


def _y_menu(
    points: Sequence[ChartPoint], y_titles: Sequence[str], fronts: Sequence[tuple[list[float], list[float]]]
) -> dict[str, Any]:
    buttons = []
    for axis, title in enumerate(y_titles):
        xs = [_xy(p, axis)[0] for p in points] + [fronts[axis][0]]
        ys = [_xy(p, axis)[1] for p in points] + [fronts[axis][1]]
        buttons.append(
            {
                "label": title,
                "method": "update",
                "args": [{"x": xs, "y": ys}, {"yaxis.title.text": title}],
            }
        )
    return {
        "buttons": buttons,
        "direction": "down",
        "x": 0.0,
        "xanchor": "left",
        "y": 1.02,
        "yanchor": "bottom",
        "pad": {"t": 0, "b": 0},
    }
