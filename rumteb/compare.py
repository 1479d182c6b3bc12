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
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import math
import re
import sys
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

logger = logging.getLogger(__name__)

#: The output formats of `format_comparison`.
FORMATS = ("md", "csv", "json")
#: The task types whose main score compare recomputes per example.
SUPPORTED_TYPES = (
    "Classification",
    "MultilabelClassification",
    "PairClassification",
    "Reranking",
    "Retrieval",
    "STS",
)
_SUFFIX = "_predictions.json"
#: Pair classification: mteb's short name -> (saved key, higher is more similar), in mteb's order.
_PAIR_FUNCTIONS = {
    "similarity": ("similarity_scores", True),
    "cosine": ("cosine_scores", True),
    "manhattan": ("manhattan_distances", False),
    "euclidean": ("euclidean_distances", False),
    "dot": ("dot_scores", True),
}
#: STS: metric prefix -> saved key (mteb saves negative distances, so higher is more similar for all).
_STS_FUNCTIONS = {
    "cosine": "cosine_scores",
    "manhattan": "manhattan_distances",
    "euclidean": "euclidean_distances",
}
#: Retrieval: mteb's metric name -> pytrec_eval measure.
_TREC_MEASURES = {"ndcg": "ndcg_cut", "map": "map_cut", "recall": "recall", "precision": "P"}
#: Resampled weights kept in memory at once (rows x examples).
_CHUNK_CELLS = 4_000_000


class CompareError(ValueError):
    """A prediction folder or file that cannot be compared. The message names the path."""


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


# --- scorers: one model's main score on one split and subset, on the full set or on resamples -----------------


class _Scorer(Protocol):
    n: int

    def point(self) -> float: ...

    def resampled(self, counts: NDArray[np.float64]) -> NDArray[np.float64]: ...


class _MeanScorer:
    """A main score that is a mean of per-example values (accuracy, per-query nDCG or MAP)."""

    def __init__(
        self,
        values: NDArray[np.float64],
        point: float,
        decimals: int | None = None,
        ids: Sequence[str] | None = None,
    ) -> None:
        self.values = values
        self.n = len(values)
        self._point = point
        self.decimals = decimals
        self.ids = ids  # the examples' identities where they have one (query ids), to check the pairing

    def point(self) -> float:
        return self._point

    def resampled(self, counts: NDArray[np.float64]) -> NDArray[np.float64]:
        means = counts @ self.values / self.n
        return np.round(means, self.decimals) if self.decimals is not None else means


class _MaxAPScorer:
    """Average precision as sklearn computes it (one step per distinct score), the max over similarity functions.

    Resampling with replacement is a weighting by counts: a resample's duplicates tie, so they fall in one step.
    """

    def __init__(self, scores: Sequence[NDArray[np.float64]], labels: NDArray[np.float64]) -> None:
        self.n = len(labels)
        self.curves = []
        for score in scores:
            order = np.argsort(score, kind="mergesort")[::-1]
            ranked = score[order]
            starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
            self.curves.append((order, starts, labels[order]))

    def point(self) -> float:
        return float(self.resampled(np.ones((1, self.n)))[0])

    def resampled(self, counts: NDArray[np.float64]) -> NDArray[np.float64]:
        best = np.full(len(counts), -np.inf)
        for order, starts, labels in self.curves:
            weights = counts[:, order]
            tp_steps = np.add.reduceat(weights * labels, starts, axis=1)
            all_steps = np.add.reduceat(weights, starts, axis=1)
            tps, seen = np.cumsum(tp_steps, axis=1), np.cumsum(all_steps, axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                precision = np.where(seen > 0, tps / np.where(seen > 0, seen, 1), 0.0)
                ap = (tp_steps * precision).sum(axis=1) / tps[:, -1]
            best = np.maximum(best, ap)  # a resample without positives gives NaN, which propagates
        return best


class _CorrelationScorer:
    """Pearson or Spearman (average ranks for ties, as scipy) of gold scores and a model's similarities."""

    def __init__(self, gold: NDArray[np.float64], predicted: NDArray[np.float64], ranks: bool) -> None:
        self.n = len(gold)
        self.gold, self.predicted, self.ranks = gold, predicted, ranks

    def point(self) -> float:
        return float(self.resampled(np.ones((1, self.n)))[0])

    def resampled(self, counts: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = self.gold, self.predicted
        if self.ranks:
            xs, ys = _weighted_ranks(x, counts), _weighted_ranks(y, counts)
        else:
            xs, ys = np.broadcast_to(x, counts.shape), np.broadcast_to(y, counts.shape)
        total = counts.sum(axis=1, keepdims=True)
        dx = xs - (counts * xs).sum(axis=1, keepdims=True) / total
        dy = ys - (counts * ys).sum(axis=1, keepdims=True) / total
        with np.errstate(invalid="ignore", divide="ignore"):
            return (counts * dx * dy).sum(axis=1) / np.sqrt(
                (counts * dx * dx).sum(axis=1) * (counts * dy * dy).sum(axis=1)
            )


def _weighted_ranks(values: NDArray[np.float64], counts: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per resample (row of counts), the average rank each example has in the resample (scipy's rankdata)."""
    order = np.argsort(values, kind="mergesort")
    ranked = values[order]
    new_group = np.r_[True, ranked[1:] != ranked[:-1]]
    group = np.empty(len(values), dtype=np.intp)
    group[order] = np.cumsum(new_group) - 1
    sizes = np.add.reduceat(counts[:, order], np.flatnonzero(new_group), axis=1)
    average = np.cumsum(sizes, axis=1) - sizes + (sizes + 1) / 2
    return average[:, group]


# --- building scorers from prediction files and gold data ---------------------------------------------------


def _data_split(task: Any, subset: str, split: str) -> Any:
    """The split mteb's ``AbsTask.evaluate`` hands to ``_evaluate_subset``."""
    if subset not in task.dataset and subset == "default":
        return task.dataset[split]
    return task.dataset[subset][split]


def _as_array(outputs: Any, what: str) -> NDArray[np.float64]:
    array = np.asarray(outputs, dtype=np.float64)
    if array.ndim != 1:
        raise CompareError(
            f"The {what} must be a list of numbers. Got an array of shape {array.shape} instead."
        )
    return array


def _pair_scorer(task: Any, outputs: Mapping[str, Any], gold: Any, metric: str) -> _Scorer:
    if task.metadata.modalities == ["text"] and len(gold) == 1:  # mteb v1 datasets: one row of lists
        from datasets import Dataset

        gold = Dataset.from_dict(gold[0])
    labels = _as_array(gold[task.label_column_name], "pair labels")
    if metric == "max_ap":
        names = list(_PAIR_FUNCTIONS)
    elif metric.endswith("_ap") and metric[: -len("_ap")] in _PAIR_FUNCTIONS:
        names = [metric[: -len("_ap")]]
    else:
        raise _Unsupported(f"main score {metric!r} is not recomputed (only max_ap and <function>_ap)")
    scores = []
    for name in names:
        key, higher_is_similar = _PAIR_FUNCTIONS[name]
        if outputs.get(key) is None:
            raise _Unsupported(f"the predictions have no {key!r}")
        scores.append(_as_array(outputs[key], key) * (1.0 if higher_is_similar else -1.0))
    return _MaxAPScorer(_check_lengths(scores, len(labels), "pairs"), labels)


def _sts_scorer(task: Any, outputs: Mapping[str, Any], gold: Any, metric: str) -> _Scorer:
    gold_scores = _as_array([task._normalize(x) for x in gold["score"]], "gold scores")
    match = re.fullmatch(r"(?:(\w+)_)?(spearman|pearson)", metric)
    if match is None or (match.group(1) is not None and match.group(1) not in _STS_FUNCTIONS):
        raise _Unsupported(f"main score {metric!r} is not recomputed")
    function, kind = match.groups()
    key = _STS_FUNCTIONS[function] if function else "similarity_scores"
    if function is None and outputs.get(key) is None:
        key = "cosine_scores"  # mteb's fallback when the model has no similarity function
    if outputs.get(key) is None:
        raise _Unsupported(f"the predictions have no {key!r}")
    (predicted,) = _check_lengths([_as_array(outputs[key], key)], len(gold_scores), "pairs")
    return _CorrelationScorer(gold_scores, predicted, ranks=kind == "spearman")


def _classification_scorer(task: Any, outputs: Any, gold: Any, metric: str, multilabel: bool) -> _Scorer:
    if metric != "accuracy":
        raise _Unsupported(f"main score {metric!r} is not recomputed (only accuracy)")
    if getattr(task, "is_cross_validation", False):
        raise _Unsupported("cross-validated predictions are not aligned with examples")
    if multilabel:
        labels = _multilabel_gold(task, gold)
        predictions = np.asarray(outputs)
        if predictions.ndim != 3 or predictions.shape[1:] != labels.shape:
            raise CompareError(
                f"The predictions must be experiments x {labels.shape[0]} texts x {labels.shape[1]} labels. "
                f"Got an array of shape {predictions.shape} instead (made on other data?)."
            )
        correct = (predictions == labels).all(axis=2)
    else:
        labels = np.asarray(gold[task.label_column_name])
        predictions = np.asarray(outputs)
        if predictions.ndim != 2 or predictions.shape[1] != len(labels):
            raise CompareError(
                f"The predictions must be experiments x {len(labels)} texts. Got an array of shape "
                f"{predictions.shape} instead (made on other data?)."
            )
        correct = predictions == labels
    # mteb: the mean over experiments of each experiment's accuracy
    point = float(np.mean([float(np.mean(row)) for row in correct]))
    return _MeanScorer(correct.mean(axis=0), point)


def _multilabel_gold(task: Any, gold: Any) -> NDArray[Any]:
    """The binarised test labels of mteb's multilabel evaluation (subsampled as mteb does above its cap)."""
    from datasets import DatasetDict
    from mteb.abstasks.abstask import _multilabel_subsampling
    from sklearn.preprocessing import MultiLabelBinarizer

    test = gold
    if task.max_eval_samples is not None and len(test) > task.max_eval_samples:
        test = _multilabel_subsampling(
            DatasetDict({"split": test}),
            seed=task.seed,
            splits=["split"],
            label=task.label_column_name,
            n_samples=task.max_eval_samples,
        )["split"]
    return np.asarray(MultiLabelBinarizer().fit_transform(test[task.label_column_name]))


def _retrieval_scorer(task: Any, run: Mapping[str, Any], gold: Any, metric: str) -> _Scorer:
    import pytrec_eval

    match = re.fullmatch(r"(ndcg|map|recall|precision)_at_(\d+)", metric)
    if match is None:
        raise _Unsupported(f"main score {metric!r} is not recomputed (only ndcg/map/recall/precision_at_k)")
    measure, k = _TREC_MEASURES[match.group(1)], match.group(2)
    # as mteb: queries without relevant documents are dropped, then the run is cleaned as the task says
    qrels = {qid: dict(docs) for qid, docs in gold["relevant_docs"].items() if len(docs) > 0}
    cleaned = {}
    for qid, docs in run.items():
        if not isinstance(docs, dict):
            raise CompareError(
                f"The run of query {qid!r} must map document ids to scores. Got {docs!r} instead."
            )
        items = [(d, s) for d, s in docs.items() if not (task.ignore_identical_ids and d == qid)]
        if task.skip_first_result:
            items = sorted(items, key=lambda x: x[1], reverse=True)[1:]
        cleaned[qid] = dict(items)
    per_query = pytrec_eval.RelevanceEvaluator(qrels, {f"{measure}.{k}"}).evaluate(cleaned)
    if not per_query:
        raise CompareError("No query of the run has relevance judgements (made on other data?).")
    in_order = [per_query[qid][f"{measure}_{k}"] for qid in per_query]  # mteb sums in this order
    ids = sorted(per_query)
    values = np.asarray([per_query[qid][f"{measure}_{k}"] for qid in ids], dtype=np.float64)
    # mteb rounds retrieval scores to 5 decimals
    return _MeanScorer(values, round(sum(in_order) / len(in_order), 5), decimals=5, ids=ids)


def _check_lengths(arrays: list[NDArray[np.float64]], n: int, what: str) -> list[NDArray[np.float64]]:
    for array in arrays:
        if len(array) != n:
            raise CompareError(
                f"The predictions have {len(array)} {what} but the dataset has {n} (made on other data?)."
            )
    return arrays


class _Unsupported(Exception):
    """The task's main score cannot be recomputed from the predictions: the task is n/a, not an error."""


def _scorer(task: Any, outputs: Any, subset: str, split: str) -> _Scorer:
    kind, metric = task.metadata.type, task.metadata.main_score
    if kind in ("Retrieval", "Reranking"):
        task.convert_v1_dataset_format_to_v2(num_proc=None)
    gold = _data_split(task, subset, split)
    if kind == "PairClassification":
        return _pair_scorer(task, _mapping(outputs), gold, metric)
    if kind == "STS":
        return _sts_scorer(task, _mapping(outputs), gold, metric)
    if kind in ("Retrieval", "Reranking"):
        return _retrieval_scorer(task, _mapping(outputs), gold, metric)
    if kind in ("Classification", "MultilabelClassification"):
        return _classification_scorer(task, outputs, gold, metric, multilabel=kind != "Classification")
    raise _Unsupported(_NO_OUTPUTS.get(kind, f"task type {kind} is not supported"))


def _mapping(outputs: Any) -> Mapping[str, Any]:
    if not isinstance(outputs, dict):
        raise CompareError(f"The outputs must be a JSON object. Got {type(outputs).__name__} instead.")
    return outputs


_NO_OUTPUTS = {
    "Clustering": "v_measure is computed on mteb's own random document subsamples and k-means runs; mteb keeps "
    "no per-example scores to resample",
}


# --- reading prediction folders -----------------------------------------------------------------------------


def read_prediction_folder(folder: str | Path) -> tuple[str, dict[str, Path]]:
    """The model name and the ``<Task>_predictions.json`` files of ruMTEB tasks in one prediction folder.

    Args:
        folder: A folder written by ``rumteb run --prediction-folder`` for one model.

    Returns:
        ``(model, {task name: file})``; the model is ``name@revision[:10]`` from the first file, or the folder
        name when the files do not record it.

    Raises:
        CompareError: The folder does not exist or holds no prediction file of a ruMTEB task.

    Example:
        >>> model, files = read_prediction_folder("preds/e5-small")
        >>> model, sorted(files)[:2]
        ('intfloat/multilingual-e5-small@fd1525a9fd', ['CEDRClassification', 'GeoreviewClassification'])
    """
    from rumteb.tasks import TASKS_BY_NAME

    path = Path(folder).expanduser()
    if not path.is_dir():
        raise CompareError(
            f"The prediction folder {str(path)!r} does not exist. Make one with "
            "'rumteb run ... --prediction-folder DIR' (one folder per model)."
        )
    files = {
        p.name[: -len(_SUFFIX)]: p
        for p in sorted(path.glob(f"*{_SUFFIX}"))
        if p.name[: -len(_SUFFIX)] in TASKS_BY_NAME
    }
    if not files:
        raise CompareError(
            f"No ruMTEB prediction files (<Task>{_SUFFIX}) in {path}. Run the model with "
            "'rumteb run ... --prediction-folder DIR --overwrite-strategy always' (stored results are reused "
            "without writing predictions)."
        )
    model = path.name
    meta = _read_file(next(iter(files.values()))).get("mteb_model_meta")
    if isinstance(meta, dict) and isinstance(meta.get("model_name"), str):
        revision = meta.get("revision")
        model = meta["model_name"] + (f"@{revision[:10]}" if isinstance(revision, str) else "")
    return model, files


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CompareError(f"Cannot read the prediction file {path}: {err}") from err
    if not isinstance(data, dict):
        raise CompareError(f"Cannot read the prediction file {path}: it must hold a JSON object.")
    return data


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
        raise ValueError(
            f"The 'n_boot' parameter of compare_predictions must be a positive int. Got {n_boot!r} instead."
        )
    if not 0 < confidence < 1:
        raise ValueError(
            "The 'confidence' parameter of compare_predictions must be a number between 0 and 1 (exclusive). "
            f"Got {confidence!r} instead."
        )
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
        raise ValueError(
            f"The 'fmt' parameter of format_comparison must be one of {FORMATS}. Got {fmt!r} instead."
        )
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


# --- command line -------------------------------------------------------------------------------------------

_EPILOG = """\
what is compared:
  PairClassification  max AP over mteb's five similarity functions, per pair
  STS                 Spearman (or the task's correlation) of the model's similarities, per pair
  Retrieval/Reranking nDCG@10 / MAP@1000 (the task's main score) from per-query pytrec_eval values
  Classification      accuracy, averaged over mteb's experiments, per test text
  Multilabel          exact-match accuracy, averaged over mteb's experiments, per test text
  Clustering          n/a: mteb keeps no per-example scores (v-measure over its own random subsamples)

examples:
  rumteb run -m ./model-a -b ruMTEB --prediction-folder preds/a --overwrite-strategy always
  rumteb run -m ./model-b -b ruMTEB --prediction-folder preds/b --overwrite-strategy always
  rumteb compare preds/a preds/b --data-dir ~/rumteb-data
  rumteb compare preds/a preds/b -t TERRa STS22 --n-boot 10000 --seed 1 --format csv
"""


def register_cli(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rumteb compare`` to the command line's subcommands."""
    parser = commands.add_parser(
        "compare",
        help="per-task difference of two models with a paired bootstrap CI",
        description="Per task, the main scores of models A and B, recomputed from the per-example outputs mteb "
        "keeps in each model's prediction folder (rumteb run --prediction-folder DIR), and a paired bootstrap "
        "confidence interval of B - A: the test examples (pairs, texts, queries) are resampled with replacement "
        "and both models are scored on the same resample. Gold labels come from the tasks' datasets. Give each "
        "model its own prediction folder: mteb writes <Task>_predictions.json without a model subfolder, so a "
        "second model run into the same folder replaces the first one's outputs.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("pred_a", type=Path, metavar="PRED_A", help="prediction folder of model A")
    parser.add_argument("pred_b", type=Path, metavar="PRED_B", help="prediction folder of model B")
    parser.add_argument(
        "-t",
        "--tasks",
        nargs="+",
        metavar="TASK",
        help="only these tasks (default: every ruMTEB task with predictions in either folder)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="offline mirror for gold labels (default: $RUMTEB_DATA_DIR, else Hub)",
    )
    parser.add_argument(
        "--n-boot", type=int, default=1000, metavar="N", help="bootstrap resamples (default 1000)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="SEED", help="seed of the resampling (default 0)"
    )
    parser.add_argument(
        "--confidence",
        type=float,
        default=0.95,
        metavar="LEVEL",
        help="coverage of the interval (default 0.95)",
    )
    parser.add_argument(
        "--format", choices=list(FORMATS), default="md", help="output format (default md); scores are x100"
    )
    parser.set_defaults(handler=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
    if args.n_boot < 1:
        raise ValueError(f"The '--n-boot' option must be a positive int. Got {args.n_boot} instead.")
    if not 0 < args.confidence < 1:
        raise ValueError(
            f"The '--confidence' option must be a number between 0 and 1. Got {args.confidence} instead."
        )
    comparison = compare_predictions(
        args.pred_a,
        args.pred_b,
        tasks=args.tasks,
        data_dir=args.data_dir,
        n_boot=args.n_boot,
        seed=args.seed,
        confidence=args.confidence,
    )
    sys.stdout.write(format_comparison(comparison, args.format))
    return 0
