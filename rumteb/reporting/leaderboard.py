"""Score models on a ruMTEB benchmark as the leaderboard does, and make the rows and notes of its summary table.

A task's score is the mean of its main score over the benchmark's splits on the Russian subset; the type means,
``Mean(Task)`` and ``Mean(TaskType)`` follow (`score_benchmark`). Gotcha: averages are never taken over fewer
tasks than the benchmark has. A model without a score for every split and subset of a task has that task listed
as missing, and the means that need it are None. The output formats of the rows are `rumteb.reporting.table`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from rumteb.benchmark import BENCHMARK_TASKS, EVAL_SPLITS, canonical_benchmark_name
from rumteb.tasks import TASKS_BY_NAME

if TYPE_CHECKING:
    from rumteb.reporting.results import ModelScores

#: The seven task types of ruMTEB, in the leaderboard's column order.
TASK_TYPES = (
    "Classification",
    "Clustering",
    "MultilabelClassification",
    "PairClassification",
    "Reranking",
    "Retrieval",
    "STS",
)
#: The columns of `summary_table`, in order.
TABLE_COLUMNS = ("model", *TASK_TYPES, "Mean(Task)", "Mean(TaskType)")


@dataclass(frozen=True)
class BenchmarkScores:
    """One model's scores on a benchmark (0-1 scale). None marks a score that needs a missing task.

    Attributes:
        model: The model name.
        benchmark: The canonical benchmark name.
        tasks: Task name -> mean main score over the benchmark's splits and the Russian subset (benchmark
            order).
        missing: Task name -> why it has no score.
        types: Task type -> mean over its tasks, in `TASK_TYPES` order.
        mean_task: ``Mean(Task)``, the mean over all tasks.
        mean_task_type: ``Mean(TaskType)``, the mean of the type means.
    """

    model: str
    benchmark: str
    tasks: Mapping[str, float | None]
    missing: Mapping[str, str]
    types: Mapping[str, float | None]
    mean_task: float | None
    mean_task_type: float | None


# --- benchmark scores ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TaskPlan:
    name: str
    type: str
    keys: tuple[tuple[str, str], ...]  # the (split, hf_subset) pairs averaged into the task's score


@cache
def _plan(benchmark: str) -> tuple[_TaskPlan, ...]:
    """Per task of ``benchmark``: its type and the splits and subsets the leaderboard averages."""
    plan = []
    for name in BENCHMARK_TASKS[benchmark]:
        metadata = TASKS_BY_NAME[name].metadata
        splits = EVAL_SPLITS.get(name, metadata.eval_splits)
        keys = tuple((split, subset) for split in splits for subset in metadata.hf_subsets)
        plan.append(_TaskPlan(name, metadata.type, keys))
    return tuple(plan)


def score_benchmark(model: ModelScores, benchmark: str = "ruMTEB") -> BenchmarkScores:
    """One model's task scores, type means, ``Mean(Task)`` and ``Mean(TaskType)`` on a benchmark.

    A task's score is the mean of its main score over the benchmark's splits (Massive*: validation and test;
    RuSTSBenchmarkSTS: test only) on the Russian subset (``ru`` for multilingual datasets, else ``default``).
    A task lacking any of these is missing; the type mean and overall means that need it are None.

    Args:
        model: Results from `load_results`.
        benchmark: ``"ruMTEB"`` (alias ``"ruMTEB(v1)"``) or ``"ruMTEB(v1.1)"``.

    Raises:
        LookupError: Unknown benchmark name.

    Example:
        >>> e5 = load_results("results/intfloat__multilingual-e5-small")[0]
        >>> scores = score_benchmark(e5)
        >>> round(100 * scores.mean_task, 2), round(100 * scores.mean_task_type, 2), scores.missing
        (57.21, 57.02, {})
    """
    benchmark = canonical_benchmark_name(benchmark)
    plan = _plan(benchmark)
    tasks: dict[str, float | None] = {}
    missing: dict[str, str] = {}
    for item in plan:
        tasks[item.name], why = _task_score(model, item)
        if why:
            missing[item.name] = why
    types = {kind: _mean([tasks[i.name] for i in plan if i.type == kind]) for kind in TASK_TYPES}
    return BenchmarkScores(
        model=model.model,
        benchmark=benchmark,
        tasks=tasks,
        missing=missing,
        types=types,
        mean_task=_mean(list(tasks.values())),
        mean_task_type=_mean(list(types.values())),
    )


def available_task_scores(model: ModelScores, benchmark: str = "ruMTEB") -> dict[str, float]:
    """Per task of ``benchmark`` with any score: the mean of the main scores it has among the benchmark's splits
    and Russian subsets, complete or not (what the leaderboard's Borda count ranks; the means need complete tasks).

    Example:
        >>> available_task_scores(load_results("results/intfloat__multilingual-e5-small")[0])["TERRa"]
        0.5861...
    """
    scores = {}
    for item in _plan(canonical_benchmark_name(benchmark)):
        result = model.tasks.get(item.name)
        values = [] if result is None else [result.scores[key] for key in item.keys if key in result.scores]
        if values:
            scores[item.name] = math.fsum(values) / len(values)
    return scores


def _task_score(model: ModelScores, item: _TaskPlan) -> tuple[float | None, str]:
    result = model.tasks.get(item.name)
    if result is None:
        unreadable = [msg for path, msg in model.skipped.items() if path.stem == item.name]
        return None, unreadable[0] if unreadable else "no result file"
    absent = [f"{split}/{subset}" for split, subset in item.keys if (split, subset) not in result.scores]
    if absent:
        return None, f"no score for {', '.join(absent)} in {result.path}"
    return math.fsum(result.scores[key] for key in item.keys) / len(item.keys), ""


def _mean(values: Sequence[float | None]) -> float | None:
    if not values or any(v is None for v in values):
        return None
    return math.fsum(v for v in values if v is not None) / len(values)


# --- tables -------------------------------------------------------------------------------------------------


def summary_table(models: Sequence[ModelScores], benchmark: str = "ruMTEB") -> list[dict[str, Any]]:
    """The leaderboard summary: one row per model, in the given order, keys as `TABLE_COLUMNS`.

    Scores are x100 and rounded to 2 decimals; None where the model misses a task the score needs (see
    `table_notes` for which).

    Example:
        >>> rows = summary_table(load_results("results/intfloat__multilingual-e5-small"))
        >>> rows[0]["model"], rows[0]["Retrieval"], rows[0]["Mean(Task)"]
        ('intfloat/multilingual-e5-small', 65.85, 57.21)
    """
    rows = []
    for model in models:
        scores = score_benchmark(model, benchmark)
        values = [*scores.types.values(), scores.mean_task, scores.mean_task_type]
        rows.append(
            {"model": model.model, **dict(zip(TABLE_COLUMNS[1:], map(_percent, values), strict=True))}
        )
    return rows


def table_notes(models: Sequence[ModelScores], benchmark: str = "ruMTEB") -> list[str]:
    """One line per model with missing tasks, and one per result file skipped as unreadable.

    Example:
        >>> # after deleting its TERRa.json:
        >>> table_notes(load_results("results/intfloat__multilingual-e5-small"))
        ['model intfloat/multilingual-e5-small: 1 of 23 tasks missing: TERRa']
    """
    notes = []
    for model in models:
        scores = score_benchmark(model, benchmark)
        if scores.missing:
            notes.append(
                f"model {model.model}: {len(scores.missing)} of {len(scores.tasks)} tasks missing: "
                + ", ".join(scores.missing)
            )
        notes += [f"model {model.model}: unreadable file skipped: {why}" for why in model.skipped.values()]
    return notes


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)
