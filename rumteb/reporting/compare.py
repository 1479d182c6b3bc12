"""``rumteb compare``: the per-task difference of two models, with a paired bootstrap confidence interval.

The inputs are two prediction folders, one per model, written by ``rumteb run --prediction-folder DIR`` (mteb's
``prediction_folder``). mteb writes one ``<Task>_predictions.json`` per task,
``{"mteb_model_meta": {...}, <hf_subset>: {<split>: outputs}}``, where the outputs depend on the task type:

- PairClassification: per pair, the scores of the five similarity functions of mteb's ``max_ap``.
- STS: per pair, cosine, negative Manhattan and negative Euclidean scores (and the model's own similarity).
- Retrieval and Reranking: per query, the run (document id -> score).
- Classification: per experiment, the predicted label of each test text.
- MultilabelClassification: per experiment, the binarised predicted labels of each test text.
- Clustering: cluster assignments on mteb's own random document subsamples (no per-example scores: n/a here).

The files hold no gold labels: compare loads each task's dataset (an offline mirror with ``data_dir``, as ``run``)
and recomputes the main score from the outputs, exactly as mteb does. Examples (pairs, texts, queries) are resampled
with replacement within each split and subset, both models are scored on the same resample, and a task's score is
the mean over the splits and subsets ruMTEB averages.

Gotcha: mteb writes the files straight into the prediction folder, without a model subfolder. A second model run
into the same folder replaces the first one's outputs and keeps the first model's name in the file: give each model
its own prediction folder. Outputs are paired by position, so both runs must use the same data.

Reading the folders is `rumteb.reporting.predictions`, the per-type scorers `rumteb.reporting._scorers`, the
output formats `rumteb.reporting.compare_table`.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from rumteb.errors import ParameterError
from rumteb.reporting._scorers import _NO_OUTPUTS, _Scorer, _scorer, _Unsupported
from rumteb.reporting.predictions import CompareError, _read_file, read_prediction_folder

logger = logging.getLogger(__name__)

#: The task types whose main score compare recomputes per example.
SUPPORTED_TYPES = (
    "Classification",
    "MultilabelClassification",
    "PairClassification",
    "Reranking",
    "Retrieval",
    "STS",
)
#: Resampled weights kept in memory at once (rows x examples).
_CHUNK_CELLS = 4_000_000


@dataclass(frozen=True)
class TaskComparison:
    """One task's scores of models A and B (0-1 scale) and the paired bootstrap interval of B - A.

    Attributes:
        task: mteb's task name.
        type: The task type, e.g. ``"STS"``.
        metric: The main score recomputed, e.g. ``"cosine_spearman"``.
        splits: The ``split/subset`` keys averaged into the task's score.
        n: Examples resampled (pairs, texts or queries), summed over the keys; None when n/a.
        score_a: A's main score, as mteb reports it; None when n/a.
        score_b: B's main score; None when n/a.
        diff: ``score_b - score_a``; None when n/a.
        ci_low: Lower end of the percentile bootstrap interval of the difference.
        ci_high: Upper end.
        note: Why the task is n/a, or remarks on the bootstrap; empty otherwise.
    """

    task: str
    type: str
    metric: str
    splits: tuple[str, ...] = ()
    n: int | None = None
    score_a: float | None = None
    score_b: float | None = None
    diff: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    note: str = ""

    @property
    def significant(self) -> bool | None:
        """Whether the interval excludes 0; None when n/a."""
        if self.ci_low is None or self.ci_high is None:
            return None
        return self.ci_low > 0 or self.ci_high < 0


@dataclass(frozen=True)
class Comparison:
    """The result of `compare_predictions`: the two models and one `TaskComparison` per task."""

    model_a: str
    model_b: str
    n_boot: int
    seed: int
    confidence: float
    tasks: tuple[TaskComparison, ...]


# --- comparing ----------------------------------------------------------------------------------------------


def compare_predictions(
    pred_a: str | Path,
    pred_b: str | Path,
    *,
    tasks: Iterable[str] | None = None,
    data_dir: str | Path | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Comparison:
    """Per task, the main scores of two models and a paired bootstrap interval of their difference (B - A).

    Each task's main score is recomputed from the per-example outputs in the two prediction folders and the gold
    labels of the task's dataset; on the full set it equals the score mteb reports (retrieval and reranking scores
    rounded to 5 decimals, as mteb rounds them). Then ``n_boot`` times, the examples of each split and subset are
    resampled with replacement, both models are scored on the same resample, and the percentile interval of
    ``score_b - score_a`` is reported. A task without per-example outputs (clustering) or with predictions in one
    folder only is n/a, with the reason in its note.

    Args:
        pred_a: Prediction folder of model A (``rumteb run --prediction-folder``).
        pred_b: Prediction folder of model B; a different folder from A's (see the module's gotcha).
        tasks: Only these tasks; default every ruMTEB task with predictions in either folder.
        data_dir: Offline mirror with the gold labels; defaults to ``$RUMTEB_DATA_DIR``, else the Hub.
        n_boot: Bootstrap resamples (at least 1).
        seed: Seed of the resampling; the resamples of a task depend only on it and the task's name.
        confidence: Coverage of the interval, between 0 and 1 (exclusive).

    Returns:
        The comparison, tasks in the order given, else in ruMTEB's order.

    Raises:
        CompareError: A folder is missing or empty, or a prediction file does not match the task's data.
        LookupError: Unknown task name.
        ValueError: Bad ``n_boot`` or ``confidence``.

    Example:
        >>> result = compare_predictions("preds/model-a", "preds/model-b", data_dir="~/rumteb-data")
        >>> row = result.tasks[0]
        >>> row.task, row.metric, round(row.diff, 4), (round(row.ci_low, 4), round(row.ci_high, 4))
        ('TERRa', 'max_ap', 0.0213, (-0.0105, 0.0537))
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ParameterError.invalid("compare_predictions", "n_boot", "a positive int", n_boot)
    if not 0 < confidence < 1:
        expected = "a number between 0 and 1 (exclusive)"
        raise ParameterError.invalid("compare_predictions", "confidence", expected, confidence)
    model_a, files_a = read_prediction_folder(pred_a)
    model_b, files_b = read_prediction_folder(pred_b)
    names = _task_names(tasks, {*files_a, *files_b})
    rows = []
    for name in names:
        rows.append(
            _compare_task(name, files_a.get(name), files_b.get(name), data_dir, n_boot, seed, confidence)
        )
    return Comparison(model_a, model_b, n_boot, seed, confidence, tuple(rows))


def _task_names(tasks: Iterable[str] | None, found: set[str]) -> list[str]:
    from rumteb.benchmark import make_task
    from rumteb.tasks import TASKS_BY_NAME

    if tasks is None:
        return [name for name in TASKS_BY_NAME if name in found]
    names = list(tasks)
    for name in names:
        make_task(name)  # unknown names raise LookupError with suggestions
    return names


def _compare_task(
    name: str,
    file_a: Path | None,
    file_b: Path | None,
    data_dir: str | Path | None,
    n_boot: int,
    seed: int,
    confidence: float,
) -> TaskComparison:
    from rumteb.benchmark import EVAL_SPLITS, make_task

    task = make_task(name, data_dir)
    meta = task.metadata
    keys = [
        (split, subset) for split in EVAL_SPLITS.get(name, meta.eval_splits) for subset in task.hf_subsets
    ]
    row = TaskComparison(name, meta.type, meta.main_score, tuple(f"{sp}/{su}" for sp, su in keys))
    if meta.type not in SUPPORTED_TYPES:
        return _na(row, _NO_OUTPUTS.get(meta.type, f"task type {meta.type} is not supported"))
    if file_a is None or file_b is None:
        missing = [side for side, file in (("A", file_a), ("B", file_b)) if file is None]
        return _na(row, f"no predictions for model {' and '.join(missing)}")
    data_a, data_b = _read_file(file_a), _read_file(file_b)
    sides = (("A", data_a, file_a), ("B", data_b, file_b))
    for split, subset in keys:
        for side, data, file in sides:
            if not isinstance(data.get(subset), dict) or split not in data[subset]:
                return _na(row, f"no predictions for {split}/{subset} in {file} (model {side})")
    task.load_data()
    scorers: list[tuple[_Scorer, _Scorer]] = []
    try:
        for split, subset in keys:
            pair = []
            for _, data, file in sides:
                try:
                    pair.append(_scorer(task, data[subset][split], subset, split))
                except CompareError as err:
                    raise CompareError(f"{file} ({split}/{subset}): {err}") from err
            a, b = pair
            if getattr(a, "ids", None) != getattr(b, "ids", None):
                return _na(row, f"the runs evaluated different queries in {split}/{subset}")
            scorers.append((a, b))
    except _Unsupported as reason:
        return _na(row, str(reason))
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    return _bootstrap(row, scorers, n_boot, rng, confidence)


def _na(row: TaskComparison, why: str) -> TaskComparison:
    return TaskComparison(row.task, row.type, row.metric, row.splits, note=f"n/a: {why}")


def _bootstrap(
    row: TaskComparison,
    scorers: Sequence[tuple[_Scorer, _Scorer]],
    n_boot: int,
    rng: np.random.Generator,
    confidence: float,
) -> TaskComparison:
    score_a = math.fsum(a.point() for a, _ in scorers) / len(scorers)
    score_b = math.fsum(b.point() for _, b in scorers) / len(scorers)
    if not (math.isfinite(score_a) and math.isfinite(score_b)):
        return _na(row, "the main score is undefined on the full set")
    largest = max(a.n for a, _ in scorers)
    chunk = max(1, min(n_boot, _CHUNK_CELLS // largest))
    diffs = []
    for start in range(0, n_boot, chunk):
        rows = min(chunk, n_boot - start)
        total_a, total_b = np.zeros(rows), np.zeros(rows)
        for a, b in scorers:
            counts = _resample_counts(rng, rows, a.n)
            total_a += a.resampled(counts)
            total_b += b.resampled(counts)
        diffs.append((total_b - total_a) / len(scorers))
    values = np.concatenate(diffs)
    valid = values[np.isfinite(values)]
    note = ""
    if len(valid) < len(values):
        note = (
            f"{len(values) - len(valid)} of {len(values)} resamples had an undefined score and were dropped"
        )
        logger.warning("%s: %s.", row.task, note)
    if not len(valid):
        return _na(row, "the score is undefined on every resample")
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(valid, [tail, 100 - tail])
    return TaskComparison(
        row.task,
        row.type,
        row.metric,
        row.splits,
        n=sum(a.n for a, _ in scorers),
        score_a=score_a,
        score_b=score_b,
        diff=score_b - score_a,
        ci_low=float(low),
        ci_high=float(high),
        note=note,
    )


def _resample_counts(rng: np.random.Generator, rows: int, n: int) -> NDArray[np.float64]:
    """``rows`` resamples of ``n`` examples with replacement, as how often each example is drawn."""
    draws = rng.integers(0, n, size=(rows, n)) + n * np.arange(rows)[:, None]
    return np.bincount(draws.ravel(), minlength=rows * n).reshape(rows, n).astype(np.float64)
