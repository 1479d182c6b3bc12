"""The MTEB leaderboard's summary table for any result folders, offline: Rank (Borda), Zero-shot, size and the means.

`board_rows` computes what ``Benchmark._create_summary_table`` of the installed mteb computes (mteb's
``benchmarks/_create_table.py``), for every model given, registered in mteb or not, and shows the scores as the
board shows them (x100, 2 decimals). Rules copied from mteb, and checked against it by a differential test:

- The task set is the benchmark's tasks that at least one given model has a result for; the means run over it.
- A task counts for a model's means only with a score for every split and subset; a model with no complete task is
  dropped from the rows (it still takes part in the others' Borda count, as on the board).
- Rank (Borda): per task, each model with a score there earns ``n - rank`` (rank with ties averaged, best first,
  over the mean of the splits it has; ``n`` = the number of rows); a task without a score earns 0; the sums are
  ranked with ties at the minimum.
- Zero-shot: ``int(100 - 100 * |training datasets ∩ tasks| / |tasks|)``, -1 when the training datasets are unknown.
  The training datasets include similar tasks and those of the ``adapted_from`` model (mteb's
  ``ModelMeta.get_training_datasets``).
- A model in mteb's registry takes its metadata from there, as the board does. Any other model: size from
  ``rumteb run``'s ``run_settings.jsonl`` (parameters counted on the weights) or ``model_meta.json``, max tokens,
  release date and ``training_datasets`` from ``model_meta.json``.

Example:
    >>> from rumteb.reporting.results import load_results
    >>> rows = board_rows(load_results("../shared/data/published/results"), "ruMTEB")
    >>> rows[0]["Rank (Borda)"], rows[0]["Model"], rows[0]["Zero-shot"], rows[0]["Zero-shot source"]
    (1, 'ai-forever/ru-en-RoSBERTa', 91, 'registry')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rumteb.benchmark import BENCHMARK_TASKS, canonical_benchmark_name
from rumteb.reporting import costs
from rumteb.reporting.leaderboard import TASK_TYPES, available_task_scores, score_benchmark
from rumteb.tasks import TASKS_BY_NAME

if TYPE_CHECKING:
    from rumteb.reporting.results import ModelScores

#: The columns before the task-type means, in order (then the types present, then `TRAILING_COLUMNS`).
LEADING_COLUMNS = (
    "Rank (Borda)",
    "Model",
    "Zero-shot",
    "Zero-shot source",
    "Active Parameters (B)",
    "Total Parameters (B)",
    "Embedding Dimensions",
    "Max Tokens",
    "Mean (Task)",
    "Mean (TaskType)",
)
#: The columns after the task-type means.
TRAILING_COLUMNS = ("Release Date",)
#: Where a Zero-shot figure comes from: mteb's registry, ``training_datasets`` declared in ``model_meta.json``
#: (``rumteb run --training-datasets``), recorded by ``rumteb train`` (train splits used, text overlap found by
#: its contamination report), or nowhere (-1).
ZERO_SHOT_SOURCES = ("registry", "declared", "measured", "unknown")


@dataclass(frozen=True)
class _Meta:
    """What the board shows beside the scores, for one model."""

    source: str  # "registry" or "local"
    training_datasets: frozenset[str] | None
    measured: bool  # training datasets recorded by rumteb train / found by text overlap
    active: float | None
    total: float | None
    dim: int | None
    max_tokens: int | None
    release_date: str | None


def board_rows(models: Sequence[ModelScores], benchmark: str = "ruMTEB") -> list[dict[str, Any]]:
    """The leaderboard's summary table of ``models``: one dict per model, sorted by Rank (Borda) (ties by name).

    Keys in order: ``Rank (Borda)`` (int), ``Model``, ``Zero-shot`` (int, -1 unknown), ``Zero-shot source`` (one
    of `ZERO_SHOT_SOURCES`), ``Active Parameters (B)``, ``Total Parameters (B)`` (billions, 3 decimals),
    ``Embedding Dimensions``, ``Max Tokens``, ``Mean (Task)``, ``Mean (TaskType)``, one column per task type
    present, named as mteb names them (``PairClassification``), and ``Release Date`` (``YYYY-MM-DD``). Scores
    are x100 with 2 decimals, as the board shows them; None where unknown or where a needed task is missing. See
    the module docstring for the rules and `board_notes` for what the rows leave out.

    Args:
        models: Results from `rumteb.reporting.results.load_results`.
        benchmark: ``"ruMTEB"`` (alias ``"ruMTEB(v1)"``) or ``"ruMTEB(v1.1)"``.

    Raises:
        LookupError: Unknown benchmark name.

    Example:
        >>> rows = board_rows(load_results(["../shared/data/published/results", "my-run"]))
        >>> [(r["Rank (Borda)"], r["Model"], r["Zero-shot source"]) for r in rows][-1]
        (7, 'local/my-model', 'declared')
    """
    benchmark = canonical_benchmark_name(benchmark)
    tasks = _task_set(models, benchmark)
    complete = {m.model: score_benchmark(m, benchmark).tasks for m in models}
    kept = [m for m in models if any(complete[m.model][t] is not None for t in tasks)]
    ranks = _borda_ranks(models, benchmark, tasks, n_rows=len(kept))
    types = [kind for kind in TASK_TYPES if any(_type(t) == kind for t in tasks)]
    rows = []
    for model in kept:
        scores = [complete[model.model][t] for t in tasks]
        type_means = {
            kind: _mean([s for t, s in zip(tasks, scores, strict=True) if _type(t) == kind]) for kind in types
        }
        meta = _model_meta(model)
        zero_shot = _zero_shot(meta.training_datasets, tasks)
        rows.append(
            {
                "Rank (Borda)": ranks[model.model],
                "Model": model.model,
                "Zero-shot": -1 if zero_shot is None else zero_shot,
                "Zero-shot source": _zero_shot_source(meta, zero_shot),
                "Active Parameters (B)": meta.active,
                "Total Parameters (B)": meta.total,
                "Embedding Dimensions": meta.dim,
                "Max Tokens": meta.max_tokens,
                "Mean (Task)": _percent(_mean(scores)),
                "Mean (TaskType)": _percent(_mean(list(type_means.values()))),
                **{kind: _percent(value) for kind, value in type_means.items()},
                "Release Date": meta.release_date,
            }
        )
    return sorted(rows, key=lambda row: (row["Rank (Borda)"], row["Model"]))


def board_notes(models: Sequence[ModelScores], benchmark: str = "ruMTEB") -> list[str]:
    """What the rows of `board_rows` need said: missing tasks per model, models left out, where each Zero-shot
    figure comes from, and benchmark tasks no model has (the means then run over fewer tasks, as on the board).

    Example:
        >>> board_notes(load_results("my-run"))[-1]
        'Zero-shot of local/my-model: declared in model_meta.json (training_datasets: XNLI)'
    """
    from rumteb.reporting.leaderboard import table_notes

    benchmark = canonical_benchmark_name(benchmark)
    tasks = _task_set(models, benchmark)
    notes = table_notes(models, benchmark)
    absent = [t for t in BENCHMARK_TASKS[benchmark] if t not in tasks]
    if absent and tasks:
        notes.append(
            f"no model has a result for {', '.join(absent)}: the means are over the other {len(tasks)} of "
            f"{len(BENCHMARK_TASKS[benchmark])} tasks, as the leaderboard computes them"
        )
    complete = {m.model: score_benchmark(m, benchmark).tasks for m in models}
    for model in models:
        if not any(complete[model.model][t] is not None for t in tasks):
            notes.append(
                f"model {model.model}: left out, no complete task (it still counts in the Borda ranks)"
            )
            continue
        meta = _model_meta(model)
        notes.append(f"Zero-shot of {model.model}: {_provenance(meta, tasks)}")
    return notes


# --- ranking ------------------------------------------------------------------------------------------------


def _task_set(models: Sequence[ModelScores], benchmark: str) -> list[str]:
    """The benchmark's tasks that any model has a result file for (the board's task columns)."""
    return [t for t in BENCHMARK_TASKS[benchmark] if any(t in m.tasks for m in models)]


def _borda_ranks(
    models: Sequence[ModelScores], benchmark: str, tasks: Sequence[str], n_rows: int
) -> dict[str, int]:
    """mteb's ``_borda_rank_from_long``: per task ``n_rows - rank`` (ties averaged), sums ranked with ties at min."""
    available = {m.model: available_task_scores(m, benchmark) for m in models}
    # the models with a row on the board's long frame: a result file for a task of the set
    points = {m.model: 0.0 for m in models if any(t in m.tasks for t in tasks)}
    for task in tasks:
        scored = {name: s[task] for name, s in available.items() if task in s and not math.isnan(s[task])}
        for name, rank in _average_ranks(scored).items():
            points[name] += n_rows - rank
    return {name: 1 + sum(other > own for other in points.values()) for name, own in points.items()}


def _average_ranks(scores: Mapping[str, float]) -> dict[str, float]:
    """Rank 1 = highest score; tied scores share the mean of their positions."""
    return {
        name: sum(o > s for o in scores.values()) + (1 + sum(o == s for o in scores.values())) / 2
        for name, s in scores.items()
    }


def _zero_shot(training: frozenset[str] | None, tasks: Sequence[str]) -> int | None:
    if training is None or not tasks:
        return None
    return int(100 - 100 * (len(training & set(tasks)) / len(tasks)))


def _type(task: str) -> str:
    return str(TASKS_BY_NAME[task].metadata.type)


def _mean(values: Sequence[float | None]) -> float | None:
    if not values or any(v is None for v in values):
        return None
    return math.fsum(v for v in values if v is not None) / len(values)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)  # mteb's leaderboard: round(score * 100, 2)


# --- metadata -----------------------------------------------------------------------------------------------


def _model_meta(model: ModelScores) -> _Meta:
    registered = _registered(model.model)
    if registered is not None:
        return registered
    folders = sorted({result.path.parent for result in model.tasks.values()})
    meta: dict[str, Any] = {}
    for folder in folders:
        found = costs.read_json(folder / "model_meta.json")
        if isinstance(found, dict):
            meta = {**found, **{k: v for k, v in meta.items() if v is not None}}
    size = costs.model_costs(model)
    active = costs.count(meta.get("n_active_parameters_override"))
    embedding = costs.count(meta.get("n_embedding_parameters"))
    if active is None and size.n_parameters is not None and embedding is not None:
        active = size.n_parameters - embedding
    return _Meta(
        source="local",
        training_datasets=_expanded_training_datasets(meta),
        measured=any(_measured(folder) for folder in folders),
        active=_billions(active),
        total=_billions(size.n_parameters),
        dim=size.embed_dim,
        max_tokens=_max_tokens(meta.get("max_tokens")),
        release_date=str(meta["release_date"]) if meta.get("release_date") else None,
    )


@cache
def _registered(name: str) -> _Meta | None:
    """The board's metadata of a model in mteb's registry under exactly this name (the board joins on it)."""
    import mteb

    try:
        meta = mteb.get_model_meta(name)
    except (KeyError, ValueError, LookupError):
        return None
    if meta.name != name:  # a renamed model: the board's join on the name misses it too
        return None
    training = meta.get_training_datasets()
    dim = meta.embed_dim
    return _Meta(
        source="registry",
        training_datasets=None if training is None else frozenset(training),
        measured=False,
        active=_billions(meta.n_active_parameters),
        total=_billions(meta.n_parameters),
        dim=int(max(dim))
        if isinstance(dim, Sequence) and dim
        else (int(dim) if isinstance(dim, int) else None),
        max_tokens=_max_tokens(meta.max_tokens),
        release_date=str(meta.release_date) if meta.release_date else None,
    )


def _expanded_training_datasets(meta: Mapping[str, Any]) -> frozenset[str] | None:
    """``training_datasets`` of a ``model_meta.json`` with similar tasks and the ``adapted_from`` model's, as mteb
    expands a registered model's (through ``mteb.ModelMeta.get_training_datasets``)."""
    names = meta.get("training_datasets")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    from mteb.models.model_meta import ModelMeta

    stand_in = ModelMeta.model_construct(training_datasets=set(names), adapted_from=meta.get("adapted_from"))
    return frozenset(stand_in.get_training_datasets() or names)


def _measured(folder: Path) -> bool:
    """Whether ``rumteb run`` recorded training datasets measured by ``rumteb train`` for this folder."""
    return any(
        (record.get("training_datasets") or {}).get("measured")
        for record in costs.rumteb_records(folder).values()
    )


def _zero_shot_source(meta: _Meta, zero_shot: int | None) -> str:
    if zero_shot is None:
        return "unknown"
    if meta.source == "registry":
        return "registry"
    return "measured" if meta.measured else "declared"


def _provenance(meta: _Meta, tasks: Sequence[str]) -> str:
    if meta.training_datasets is None:
        where = "mteb's registry" if meta.source == "registry" else "model_meta.json"
        return f"unknown (-1): no training_datasets in {where}"
    overlap = sorted(meta.training_datasets & set(tasks))
    trained = ", ".join(overlap) if overlap else "none of the benchmark's tasks"
    if meta.source == "registry":
        return f"mteb's registry (trained on {trained})"
    if meta.measured:
        return f"measured by rumteb train: train splits used and text overlap found (trained on {trained})"
    return f"declared in model_meta.json (trained on {trained})"


def _billions(count: int | None) -> float | None:
    return None if count is None else round(float(count) / 1e9, 3)


def _max_tokens(value: Any) -> int | None:
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or math.isinf(value)
        or math.isnan(value)
    ):
        return None
    return int(value)
