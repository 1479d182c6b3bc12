"""Per task type, one model's main score on one split and subset, on the full set or on bootstrap resamples.

Private to `rumteb.reporting.compare`. `_scorer` turns one task's outputs in a prediction file and the task's gold
data into a scorer that recomputes the main score as mteb does: a mean of per-example values for accuracy and the
retrieval and reranking scores (`_MeanScorer`), sklearn's average precision, the max over the similarity functions,
for pair classification (`_MaxAPScorer`), Pearson or Spearman correlation for STS (`_CorrelationScorer`). A
resample is a row of counts (how often each example is drawn). A main score that cannot be recomputed raises
`_Unsupported` (the task is n/a); outputs that do not fit the data raise `CompareError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from rumteb.reporting.predictions import CompareError

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
