"""PROVISIONAL: the board's columns (Rank (Borda), Zero-shot, sizes, means) for ``rumteb board``.

This module is a minimal stand-in, written beside ``rumteb board`` so that the page can be built and tested; the
full implementation of `board_rows` and `board_notes` (issue 25, item 1 and 2: registry metadata exactly as mteb's
summary table, zero-shot declared or measured, ``rumteb table --columns board``) replaces it. Only the interface
is meant to stay: `board_rows` returns one dict per model sorted by rank with the keys in the order listed in `board_rows`.

Here: Rank (Borda) per mteb's definition (per task each model earns ``n_models - rank``, ranks with ties averaged,
a missing task earns 0; the sums ranked with ties at the minimum); Zero-shot from mteb's registry
(``100 - 100 * |training_datasets & tasks| / |tasks|``) or from ``training_datasets`` in the folder's
``model_meta.json`` ("declared"), else -1 ("unknown"); sizes from mteb's registry, else from
`rumteb.reporting.costs`; means as `rumteb.reporting.leaderboard.summary_table` (x100, 2 decimals).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rumteb.reporting import costs
from rumteb.reporting.leaderboard import TASK_TYPES, score_benchmark, table_notes

if TYPE_CHECKING:
    from rumteb.reporting.results import ModelScores


def board_rows(models: Sequence[ModelScores], benchmark: str = "ruMTEB") -> list[dict[str, Any]]:
    """One row per model, sorted by Rank (Borda) then name (PROVISIONAL, see the module docstring).

    Keys, in order: ``Rank (Borda)``, ``Model``, ``Zero-shot`` (-1: unknown), ``Zero-shot source``
    (registry, declared, measured, unknown), ``Active Parameters (B)``, ``Total Parameters (B)``,
    ``Embedding Dimensions``, ``Max Tokens``, ``Mean (Task)``, ``Mean (TaskType)``, the 7 task types,
    ``Release Date``; None where unknown.

    Example:
        >>> rows = board_rows(load_results("published/results"))
        >>> rows[0]["Rank (Borda)"], rows[0]["Model"]
        (1, 'ai-forever/ru-en-RoSBERTa')
    """
    scores = [score_benchmark(model, benchmark) for model in models]
    borda = _borda_ranks([s.tasks for s in scores])
    rows = []
    for model, score, rank in zip(models, scores, borda, strict=True):
        zero_shot, source = _zero_shot(model, list(score.tasks))
        meta = _registry_meta(model.model)
        size = costs.model_costs(model)
        total = meta.get("n_parameters", size.n_parameters)
        row: dict[str, Any] = {
            "Rank (Borda)": rank,
            "Model": model.model,
            "Zero-shot": zero_shot,
            "Zero-shot source": source,
            "Active Parameters (B)": _billions(meta.get("n_active_parameters")),
            "Total Parameters (B)": _billions(total),
            "Embedding Dimensions": meta.get("embed_dim", size.embed_dim),
            "Max Tokens": meta.get("max_tokens"),
            "Mean (Task)": _percent(score.mean_task),
            "Mean (TaskType)": _percent(score.mean_task_type),
            **{kind: _percent(score.types[kind]) for kind in TASK_TYPES},
            "Release Date": meta.get("release_date"),
        }
        rows.append(row)
    return sorted(rows, key=lambda r: (r["Rank (Borda)"], r["Model"]))


def board_notes(models: Sequence[ModelScores], benchmark: str = "ruMTEB") -> list[str]:
    """The notes under the board: models with missing tasks (named), unreadable files (PROVISIONAL)."""
    return table_notes(models, benchmark)


def _borda_ranks(task_scores: Sequence[Any]) -> list[int]:
    n_models = len(task_scores)
    points = [0.0] * n_models
    tasks = {name for scores in task_scores for name in scores}
    for task in tasks:
        ran = [(i, s[task]) for i, s in enumerate(task_scores) if s.get(task) is not None]
        for i, value in ran:
            better = sum(1 for _, other in ran if other > value)
            ties = sum(1 for _, other in ran if other == value)
            points[i] += n_models - (better + (ties + 1) / 2)  # rank with ties averaged
    return [1 + sum(1 for other in points if other > p) for p in points]  # ties at the minimum


def _zero_shot(model: ModelScores, tasks: list[str]) -> tuple[int, str]:
    import mteb

    try:
        declared = mteb.get_model_meta(model.model).get_training_datasets()
        source = "registry"
    except (KeyError, ValueError, LookupError):
        declared, source = _declared_training(model), "declared"
    if declared is None or not tasks:
        return -1, "unknown"
    return int(100 - 100 * (len(set(declared) & set(tasks)) / len(tasks))), source


def _declared_training(model: ModelScores) -> set[str] | None:
    for folder in sorted({result.path.parent for result in model.tasks.values()}):
        path = folder / "model_meta.json"
        try:
            meta = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        except (OSError, UnicodeDecodeError, ValueError):
            meta = None  # rumteb table reports an unreadable model_meta.json already
        if isinstance(meta, dict) and isinstance(meta.get("training_datasets"), (dict, list)):
            return set(meta["training_datasets"])
    return None


def _registry_meta(name: str) -> dict[str, Any]:
    import mteb

    try:
        meta = mteb.get_model_meta(name)
    except (KeyError, ValueError, LookupError):
        return {}
    return {
        "n_parameters": meta.n_parameters,
        "n_active_parameters": meta.n_active_parameters,
        "embed_dim": meta.embed_dim,
        "max_tokens": None if meta.max_tokens in (None, float("inf")) else int(meta.max_tokens),
        "release_date": str(meta.release_date) if meta.release_date else None,
    }


def _billions(value: int | None) -> float | None:
    return None if value is None else round(value / 1e9, 3)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)
