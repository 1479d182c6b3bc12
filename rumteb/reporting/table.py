"""Render leaderboard rows (`rumteb.reporting.leaderboard.summary_table`) as Markdown, CSV, JSON or LaTeX.

`format_table` writes scores with 2 decimals (parameters in billions, ``... (B)``, with 3) and missing ones as ``n/a`` (empty in CSV, null in JSON), and puts
the notes of `rumteb.reporting.leaderboard.table_notes` below a Markdown or LaTeX table; CSV and JSON stay
machine-readable.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from rumteb.errors import ParameterError
from rumteb.reporting.leaderboard import TABLE_COLUMNS

#: The formats of `format_table`.
FORMATS = ("md", "csv", "json", "latex")


def format_table(rows: Sequence[Mapping[str, Any]], fmt: str = "md", *, notes: Sequence[str] = ()) -> str:
    """Render `summary_table` rows as Markdown, CSV, JSON or LaTeX; the text ends with a newline.

    Missing values are ``n/a`` in md and latex, empty in csv, null in json. ``notes`` (from `table_notes`) go
    below the table in md (a list) and latex (``%`` comments); csv and json stay machine-readable, so callers
    write the notes elsewhere (stderr) and passing them raises.

    Args:
        rows: Dicts with the same keys, e.g. from `summary_table`.
        fmt: ``"md"``, ``"csv"``, ``"json"`` or ``"latex"``.
        notes: Lines to add below an md or latex table.

    Raises:
        ValueError: Unknown ``fmt``, or ``notes`` with csv or json.

    Example:
        >>> print(format_table([{"model": "m", "Mean(Task)": 56.44}], "csv"), end="")
        model,Mean(Task)
        m,56.44
    """
    if fmt not in FORMATS:
        raise ParameterError.invalid("format_table", "fmt", f"one of {FORMATS}", fmt)
    if notes and fmt in ("csv", "json"):
        expected = f"empty for fmt={fmt!r} (write the notes to stderr)"
        raise ParameterError.invalid("format_table", "notes", expected, list(notes))
    columns = list(rows[0]) if rows else list(TABLE_COLUMNS)
    if fmt == "json":
        return json.dumps([dict(row) for row in rows], indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(columns, rows)
    if fmt == "latex":
        return _latex(columns, rows, notes)
    return _markdown(columns, rows, notes)


def cell_text(value: Any, missing: str = "", column: str = "") -> str:
    """One cell as the tables write it: None as ``missing``, parameters in billions (a column ending in
    ``(B)``) with 3 decimals, other floats with 2.

    Example:
        >>> cell_text(56.4), cell_text(None, "n/a"), cell_text(512), cell_text(0.0293, column="Total Parameters (B)")
        ('56.40', 'n/a', '512', '0.029')
    """
    if value is None:
        return missing
    if isinstance(value, float):
        # parameters in billions keep the board's 3 decimals (0.118); scores and the rest 2
        return f"{value:.3f}" if column.endswith("(B)") else f"{value:.2f}"
    return str(value)


def _csv(columns: list[str], rows: Sequence[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([cell_text(row[c], "", c) for c in columns] for row in rows)
    return out.getvalue()


def _markdown(columns: list[str], rows: Sequence[Mapping[str, Any]], notes: Sequence[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|---|" + "---:|" * (len(columns) - 1)]
    lines += [
        "| " + " | ".join(cell_text(row[c], "n/a", c).replace("|", r"\|") for c in columns) + " |"
        for row in rows
    ]
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    return "\n".join(lines) + "\n"


_LATEX_SPECIALS = {c: "\\" + c for c in "&%$#_{}"} | {
    "~": r"\textasciitilde{}",
    "^": r"\^{}",
    "\\": r"\textbackslash{}",
}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIALS.get(c, c) for c in text)


def _latex(columns: list[str], rows: Sequence[Mapping[str, Any]], notes: Sequence[str]) -> str:
    lines = [r"\begin{tabular}{l" + "r" * (len(columns) - 1) + "}", r"\hline"]
    lines.append(" & ".join(_latex_escape(c) for c in columns) + r" \\")
    lines.append(r"\hline")
    lines += [
        " & ".join(_latex_escape(cell_text(row[c], "n/a", c)) for c in columns) + r" \\" for row in rows
    ]
    lines += [r"\hline", r"\end{tabular}"]
    lines += [f"% {note}" for note in notes]
    return "\n".join(lines) + "\n"
