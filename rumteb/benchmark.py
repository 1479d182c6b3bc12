"""ruMTEB v1 (the paper's 23 tasks) and v1.1 (two retrieval tasks on hard-negative corpora) as mteb Benchmarks."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import mteb

from rumteb._util.lookup import unknown_name_error
from rumteb.tasks import TASKS_BY_NAME

_V1 = (
    "GeoreviewClassification",
    "HeadlineClassification",
    "InappropriatenessClassification",
    "KinopoiskClassification",
    "MassiveIntentClassification",
    "MassiveScenarioClassification",
    "RuReviewsClassification",
    "RuSciBenchGRNTIClassification",
    "RuSciBenchOECDClassification",
    "GeoreviewClusteringP2P",
    "RuSciBenchGRNTIClusteringP2P",
    "RuSciBenchOECDClusteringP2P",
    "CEDRClassification",
    "SensitiveTopicsClassification",
    "TERRa",
    "MIRACLReranking",
    "RuBQReranking",
    "MIRACLRetrieval",
    "RiaNewsRetrieval",
    "RuBQRetrieval",
    "RUParaPhraserSTS",
    "STS22",
    "RuSTSBenchmarkSTS",
)
_V1_1_REPLACED = {
    "MIRACLRetrieval": "MIRACLRetrievalHardNegatives.v2",
    "RiaNewsRetrieval": "RiaNewsRetrievalHardNegatives.v2",
}

#: Benchmark name -> its task names, in the paper's order.
BENCHMARK_TASKS: dict[str, tuple[str, ...]] = {
    "ruMTEB": _V1,
    "ruMTEB(v1.1)": tuple(_V1_1_REPLACED.get(name, name) for name in _V1),
}
#: Other names accepted for a benchmark.
ALIASES = {"ruMTEB(v1)": "ruMTEB"}
#: The splits ruMTEB evaluates where they differ from the task's own (as mteb's MTEB(rus, v1) does).
EVAL_SPLITS = {"RuSTSBenchmarkSTS": ["test"]}

_CITATION = r"""
@misc{snegirev2024russianfocusedembeddersexplorationrumteb,
  archiveprefix = {arXiv},
  author = {Artem Snegirev and Maria Tikhonova and Anna Maksimova and Alena Fenogenova and Alexander Abramov},
  eprint = {2408.12503},
  primaryclass = {cs.CL},
  title = {The Russian-focused embedders' exploration: ruMTEB benchmark and Russian embedding model design},
  url = {https://arxiv.org/abs/2408.12503},
  year = {2024},
}
"""
_DESCRIPTIONS = {
    "ruMTEB": "ruMTEB v1, as in the paper: 23 Russian tasks over 7 task types (classification, clustering, "
    "multilabel classification, pair classification, reranking, retrieval, STS).",
    "ruMTEB(v1.1)": "ruMTEB v1.1: v1 with MIRACLRetrieval and RiaNewsRetrieval replaced by their hard-negative "
    "corpora with task-specific query prompts (MIRACLRetrievalHardNegatives.v2, RiaNewsRetrievalHardNegatives.v2).",
}


def benchmark_names() -> list[str]:
    """The benchmark names and aliases that `get_benchmark` accepts."""
    return [*BENCHMARK_TASKS, *ALIASES]


def canonical_benchmark_name(name: str) -> str:
    """The canonical name of a benchmark, resolving aliases.

    Raises:
        LookupError: The name is unknown (the message suggests the closest names).
    """
    name = ALIASES.get(name, name)
    if name not in BENCHMARK_TASKS:
        raise unknown_name_error(
            "benchmark", name, benchmark_names(), 'Known benchmarks: "ruMTEB", "ruMTEB(v1.1)".'
        )
    return name


def make_task(name: str, data_dir: str | Path | None = None, benchmark: str | None = None) -> mteb.AbsTask:
    """A fresh instance of task ``name`` (mteb's task name), restricted to ruMTEB's splits when ``benchmark`` is set."""
    if name not in TASKS_BY_NAME:
        raise unknown_name_error("task", name, list(TASKS_BY_NAME), 'Run "rumteb tasks --all" to list them.')
    task = TASKS_BY_NAME[name](data_dir=data_dir)
    if benchmark is not None and name in EVAL_SPLITS:
        task.filter_eval_splits(EVAL_SPLITS[name])
    return task


def select_tasks(
    names: Iterable[str] | None = None,
    *,
    benchmark: str = "ruMTEB",
    data_dir: str | Path | None = None,
) -> list[mteb.AbsTask]:
    """Fresh instances of the named tasks, or else all tasks of ``benchmark`` (`rumteb.get_tasks`)."""
    benchmark = canonical_benchmark_name(benchmark)
    if names is None:
        return [make_task(name, data_dir, benchmark=benchmark) for name in BENCHMARK_TASKS[benchmark]]
    if isinstance(names, str):
        raise TypeError(
            f"The 'names' parameter of get_tasks must be a list of task names. Got the string {names!r} instead; "
            f"use get_task({names!r}) or get_tasks([{names!r}])."
        )
    in_benchmark = set(BENCHMARK_TASKS[benchmark])
    return [
        make_task(name, data_dir, benchmark=benchmark if name in in_benchmark else None) for name in names
    ]


def build_benchmark(name: str, data_dir: str | Path | None = None) -> mteb.Benchmark:
    """A new `mteb.Benchmark` with fresh task instances (mteb's evaluators keep per-instance random state)."""
    name = canonical_benchmark_name(name)
    return mteb.Benchmark(
        name=name,
        tasks=[make_task(task, data_dir, benchmark=name) for task in BENCHMARK_TASKS[name]],
        aliases=[alias for alias, target in ALIASES.items() if target == name],
        description=_DESCRIPTIONS[name],
        reference="https://arxiv.org/abs/2408.12503",
        citation=_CITATION,
        display_name="ruMTEB" if name == "ruMTEB" else "ruMTEB v1.1",
        contacts=["artemsnegirev"],
    )
