"""Render a `rumteb.reporting.compare.Comparison` as Markdown, CSV or JSON (`format_comparison`).

Scores are x100, as in ruMTEB tables. Markdown names the two models above the table and gives each n/a task its
reason; CSV and JSON carry every field of `rumteb.reporting.compare.TaskComparison`, empty or null where n/a.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Any

from rumteb.errors import ParameterError
from rumteb.reporting.compare import Comparison, TaskComparison

#: The output formats of `format_comparison`.
FORMATS = ("md", "csv", "json")


# --- output -------------------------------------------------------------------------------------------------


def format_comparison(comparison: Comparison, fmt: str = "md") -> str:
    """Render a `Comparison` as Markdown, CSV or JSON (scores x100, as ruMTEB tables); ends with a newline.

    Markdown names the models above the table and shows n/a tasks with their reason; CSV and JSON carry every
    field (``significant``: the interval excludes 0), empty or null where n/a.

    Raises:
        ValueError: Unknown ``fmt``.

    Example:
        >>> print(format_comparison(result, "md"))  # doctest: +SKIP
        A = local/model-a@8414d86bce, B = local/model-b@1b2c3d4e5f: B - A, x100, paired bootstrap 95% CI ...
    """
    if fmt not in FORMATS:
        raise ParameterError.invalid("format_comparison", "fmt", f"one of {FORMATS}", fmt)
    records = [_record(row) for row in comparison.tasks]
    if fmt == "json":
        header = {k: v for k, v in asdict(comparison).items() if k != "tasks"}
        return json.dumps({**header, "scale": 100, "tasks": records}, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(
            out, fieldnames=list(_record(TaskComparison("", "", ""))), lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in records)
        return out.getvalue()
    level = f"{100 * comparison.confidence:g}%"
    lines = [
        f"A = {comparison.model_a}, B = {comparison.model_b}: B - A, x100, paired bootstrap {level} CI "
        f"({comparison.n_boot} resamples of the test examples, seed {comparison.seed}).",
        "",
        f"| task | type | metric | n | A | B | B - A | {level} CI | note |",
        "|---|---|---|---:|---:|---:|---:|---|---|",
    ]
    for row in comparison.tasks:
        if row.diff is None:
            cells = [row.task, row.type, row.metric, "", "n/a", "n/a", "n/a", "n/a", row.note]
        else:
            assert row.score_a is not None and row.score_b is not None
            mark = "CI excludes 0" if row.significant else ""
            cells = [
                row.task,
                row.type,
                row.metric,
                str(row.n),
                f"{100 * row.score_a:.2f}",
                f"{100 * row.score_b:.2f}",
                f"{100 * row.diff:+.2f}",
                f"[{100 * (row.ci_low or 0.0):+.2f}, {100 * (row.ci_high or 0.0):+.2f}]",
                "; ".join(x for x in (mark, row.note) if x),
            ]
        lines.append("| " + " | ".join(c.replace("|", r"\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _record(row: TaskComparison) -> dict[str, Any]:
    def scaled(value: float | None) -> float | None:
        return None if value is None else round(100 * value, 6)

    return {
        "task": row.task,
        "type": row.type,
        "metric": row.metric,
        "splits": " ".join(row.splits),
        "n": row.n,
        "score_a": scaled(row.score_a),
        "score_b": scaled(row.score_b),
        "diff": scaled(row.diff),
        "ci_low": scaled(row.ci_low),
        "ci_high": scaled(row.ci_high),
        "significant": row.significant,
        "note": row.note,
    }
