"""rumteb's label-access shortcuts in the classification evaluators pick the same rows as mteb's own code."""

from __future__ import annotations

import datasets
import mteb
import numpy as np
import pytest

import rumteb
from rumteb.tasks._fast_labels import as_list


def _dataset(n: int, labels: int, seed: int = 0) -> datasets.Dataset:
    rng = np.random.default_rng(seed)
    return datasets.Dataset.from_dict(
        {"text": [f"текст {i}" for i in range(n)], "label": rng.integers(0, labels, n).tolist()}
    )


@pytest.mark.parametrize("name", ["InappropriatenessClassification", "GeoreviewClassification"])
def test_classification_undersampling_equals_mteb(name: str) -> None:
    ours, ref = rumteb.get_task(name), mteb.get_task(name)
    data = _dataset(500, 3).select(list(range(499, -1, -1)))  # with an indices mapping, as after a select
    idxs_ours = idxs_ref = None
    for experiment in range(4):  # mteb passes the shuffled indices of one experiment to the next
        sub_ours, idxs_ours, chosen_ours = ours._undersample_data(data, experiment, idxs_ours)
        sub_ref, idxs_ref, chosen_ref = type(ref)._undersample_data(ref, data, experiment, idxs_ref)
        assert chosen_ours == chosen_ref and idxs_ours == idxs_ref
        assert sub_ours["label"][:] == sub_ref["label"][:]
        assert len(chosen_ours) == 3 * ours.samples_per_label


def test_multilabel_undersampling_equals_mteb() -> None:
    ours, ref = rumteb.get_task("CEDRClassification"), mteb.get_task("CEDRClassification")
    rng = np.random.default_rng(1)
    rows = [sorted(set(rng.integers(0, 5, rng.integers(0, 3)).tolist())) for _ in range(300)]
    column = datasets.Dataset.from_dict({"label": rows})["label"]
    for _ in range(3):  # both RNGs advance alike
        got = ours._undersample_data_indices(column, 8, None)
        want = type(ref)._undersample_data_indices(ref, column, 8, None)
        assert got == want


def test_as_list_reads_a_column_once_and_leaves_other_values() -> None:
    column = _dataset(10, 2)["label"]
    assert type(column).__name__ == "Column"
    assert as_list(column) == [column[i] for i in range(10)]
    values = [1, 2]
    assert as_list(values) is values
