"""Each rumteb task equals mteb's built-in task of the same name in everything that decides a score."""

from __future__ import annotations

import re

import datasets
import mteb
import pytest
from mteb.abstasks import AbsTask

import rumteb
from rumteb.tasks import TASKS, TASKS_BY_NAME

NAMES = [cls.metadata.name for cls in TASKS]
# Attributes that hold state or data rather than settings.
_NOT_SETTINGS = {
    "metadata",
    "dataset",
    "data_loaded",
    "hf_subsets",
    "_eval_splits",
    "_abc_impl",
    "superseded_by",
}


def _reference(name: str) -> AbsTask:
    task = mteb.get_task(name)
    if task.metadata.is_multilingual:
        task.filter_languages(["rus"])
    return task


def _settings(task: AbsTask) -> dict[str, object]:
    """Every class-level, non-callable attribute from the task class up to AbsTask (evaluator settings)."""
    names: set[str] = set()
    for klass in type(task).__mro__:
        if klass is object:
            continue
        for key, value in vars(klass).items():
            if key.startswith("__") or key in _NOT_SETTINGS or callable(value):
                continue
            if isinstance(value, property | staticmethod | classmethod):
                continue
            names.add(key)
    return {key: getattr(task, key) for key in sorted(names)}


def _abstract_base(task: AbsTask) -> type:
    return next(k for k in type(task).__mro__ if k.__module__.startswith("mteb.abstasks"))


def test_there_are_23_v1_tasks_and_2_v1_1_replacements() -> None:
    assert len(TASKS) == 25
    assert len(set(NAMES)) == 25
    assert len(rumteb.get_benchmark().tasks) == 23


@pytest.mark.parametrize("name", NAMES)
def test_task_matches_mteb_builtin(name: str) -> None:
    ours, ref = rumteb.get_task(name), _reference(name)

    assert type(ours).__module__.startswith("rumteb.tasks."), "must be rumteb's own class"
    assert _abstract_base(ours) is _abstract_base(ref)

    revision = ours.metadata.dataset["revision"]
    assert re.fullmatch(r"[0-9a-f]{40}", revision), f"revision {revision!r} is not a full commit hash"
    assert not ours.metadata.dataset.get("trust_remote_code", False)
    assert ours.metadata.dataset == ref.metadata.dataset

    ours_meta = ours.metadata.model_dump(exclude={"description", "eval_langs"})
    ref_meta = ref.metadata.model_dump(exclude={"description", "eval_langs"})
    assert ours_meta == ref_meta

    # Subsets: ours are restricted to Russian by definition; mteb's after filtering to Russian.
    assert ours.hf_subsets == ref.hf_subsets
    if ref.metadata.is_multilingual:
        assert ours.metadata.eval_langs == {s: ref.metadata.eval_langs[s] for s in ref.hf_subsets}
    else:
        assert ours.metadata.eval_langs == ref.metadata.eval_langs
    assert list(ours.eval_splits) == list(ref.eval_splits)
    assert ours.metadata.main_score == ref.metadata.main_score
    assert _settings(ours) == _settings(ref)
    assert ours.superseded_by == ref.superseded_by
    assert ours.seed == ref.seed == 42


@pytest.mark.parametrize("name", NAMES)
def test_transform_is_present_exactly_when_mteb_has_one(name: str) -> None:
    ours, ref = rumteb.get_task(name), _reference(name)
    ours_own = type(ours).dataset_transform is not _abstract_base(ours).dataset_transform
    ref_own = type(ref).dataset_transform is not _abstract_base(ref).dataset_transform
    assert ours_own == ref_own


def _classification_raw(n_test: int) -> datasets.DatasetDict:
    labels = ["спорт", "политика", "экономика", "наука", "культура"]
    rows = lambda n, off: [  # noqa: E731
        {
            "text": f"текст номер {i + off} про {labels[(i * 7 + i // 3) % 5]}",
            "label": labels[(i * 7 + i // 3) % 5],
        }
        for i in range(n)
    ]
    return datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(rows(300, 0)),
            "test": datasets.Dataset.from_list(rows(n_test, 10_000)),
        }
    )


def _paraphraser_raw() -> datasets.DatasetDict:
    rows = [
        {"id": str(i), "text_1": f"фраза {i}", "text_2": f"другая фраза {i}", "class": i % 3 - 1}
        for i in range(50)
    ]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


_RAW_INPUTS = {
    "HeadlineClassification": lambda: _classification_raw(3000),
    "InappropriatenessClassification": lambda: _classification_raw(2500),
    "RuReviewsClassification": lambda: _classification_raw(2100),
    "RuSciBenchGRNTIClassification": lambda: _classification_raw(4000),
    "RuSciBenchOECDClassification": lambda: _classification_raw(2600),
    "RuSciBenchGRNTIClusteringP2P": lambda: _classification_raw(3000),
    "RuSciBenchOECDClusteringP2P": lambda: _classification_raw(1000),
    "RUParaPhraserSTS": _paraphraser_raw,
}


def test_every_transform_has_an_input_fixture() -> None:
    with_transform = {
        n
        for n in NAMES
        if TASKS_BY_NAME[n].dataset_transform is not _abstract_base(rumteb.get_task(n)).dataset_transform
    }
    assert with_transform == set(_RAW_INPUTS)


@pytest.mark.parametrize("name", sorted(_RAW_INPUTS))
def test_transform_output_equals_mteb(name: str) -> None:
    ours, ref = rumteb.get_task(name), _reference(name)
    ours.dataset, ref.dataset = _RAW_INPUTS[name](), _RAW_INPUTS[name]()
    ours.dataset_transform()
    ref.dataset_transform()
    assert set(ours.dataset) == set(ref.dataset)
    for split in ref.dataset:
        assert ours.dataset[split].features == ref.dataset[split].features
        assert ours.dataset[split].to_dict() == ref.dataset[split].to_dict()
    if "test" in ref.dataset and name != "RUParaPhraserSTS":
        assert len(ours.dataset["test"]) == min(2048, len(_RAW_INPUTS[name]()["test"]))


@pytest.mark.parametrize(
    ("ours_name", "mteb_name"), [("ruMTEB", "MTEB(rus, v1)"), ("ruMTEB(v1.1)", "MTEB(rus, v1.1)")]
)
def test_benchmark_matches_mteb(ours_name: str, mteb_name: str) -> None:
    ours, ref = rumteb.get_benchmark(ours_name), mteb.get_benchmark(mteb_name)
    ours_tasks = {t.metadata.name: t for t in ours.tasks}
    ref_tasks = {t.metadata.name: t for t in ref.tasks}
    assert set(ours_tasks) == set(ref_tasks)
    assert len(ours.tasks) == 23
    for name, ref_task in ref_tasks.items():
        assert list(ours_tasks[name].eval_splits) == list(ref_task.eval_splits), name
        assert ours_tasks[name].hf_subsets == ref_task.hf_subsets, name
    assert ours_tasks["RuSTSBenchmarkSTS"].eval_splits == ["test"]
