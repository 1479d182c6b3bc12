"""Label access without per-row ``datasets`` lookups in mteb's classification evaluators.

mteb's classification and multilabel evaluators read a label column as ``dataset[column]`` (a lazy
``datasets.Column`` in datasets >= 4) and then index it row by row or hand it to scikit-learn, which iterates it;
each row costs a table lookup (tens of microseconds to a millisecond). On InappropriatenessClassification that was
two thirds of the task's wall time once embeddings were cached. These mixins read the column once as a list and
otherwise leave mteb's algorithms as they are: same RNG calls in the same order, same indices, same scores (the
differential tests against mteb's built-in tasks check that).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np


def as_list(values: Any) -> Any:
    """A ``datasets.Column`` as a plain list (one slice read); anything else unchanged."""
    return values[:] if type(values).__name__ == "Column" else values


class FastLabelsClassification:
    """For `AbsTaskClassification` subclasses (put before it in the bases)."""

    seed: int
    samples_per_label: int
    label_column_name: str

    def _undersample_data(
        self, dataset: Any, experiment_num: int, idxs: list[int] | None = None
    ) -> tuple[Any, list[int], list[int]]:
        # mteb's rule: shuffle the indices in place with RandomState(seed), then keep the first
        # samples_per_label rows of each label in that order
        order = list(range(len(dataset))) if idxs is None else idxs
        np.random.RandomState(self.seed).shuffle(order)
        labels = as_list(dataset[self.label_column_name])
        taken: dict[Any, int] = defaultdict(int)
        chosen = []
        for row in order:
            label = labels[row]
            if taken[label] < self.samples_per_label:
                taken[label] += 1
                chosen.append(row)
        return dataset.select(chosen), order, chosen

    def _calculate_scores(self, y_test: Any, y_pred: Any) -> Any:
        return super()._calculate_scores(as_list(y_test), y_pred)  # type: ignore[misc]


class FastLabelsMultilabel:
    """For `AbsTaskMultilabelClassification` subclasses (put before it in the bases)."""

    def _undersample_data_indices(
        self, y: Any, samples_per_label: int, idxs: list[int] | None = None
    ) -> tuple[list[int], list[int]]:
        return super()._undersample_data_indices(as_list(y), samples_per_label, idxs)  # type: ignore[misc]
