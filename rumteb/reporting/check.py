"""``rumteb check``: is a results folder ready for the ruMTEB leaderboard (the embeddings-benchmark/results repo)?

Per model (its revision folders merged, as the leaderboard and ``rumteb table`` merge them): every task of the
benchmark present, with a finite main score on each split and subset the leaderboard averages; each result file
readable and computed on the pinned dataset revision (else a warning naming both: the leaderboard shows results
of earlier revisions of the same data). Per revision folder written by mteb 2 or later (what ``rumteb run``
writes and what the results repository takes as a new submission): a ``model_meta.json`` whose name and revision
match the folders, a revision that is a Hub commit (40 hex digits, not the weight hash of a local folder), the
mteb version in every result file and a ``run_settings.jsonl`` entry for every split and subset. Folders written
only by older mteb versions are published history: the results repository keeps them, and they pass with a
warning. Then the results repository's own CI rules (`rumteb.reporting.submission`), against a clone of it when
given, and for a model that mteb's registry does not know, the ``ModelMeta`` to add to mteb
(`rumteb.reporting.meta_block`).

Example:
    >>> report = check_results("../shared/data/published")
    >>> report.ok, len(report.errors), len(report.warnings)
    (True, 0, 43)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rumteb.reporting.findings import Problem, rerun_command

__all__ = ["RESULTS_REPO", "CheckReport", "Problem", "check_results"]

#: A Hub commit: what the results repository expects as a model revision.
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
#: Revision folders that name no model revision (mteb's placeholders, and results copied from papers).
_NO_REVISION = ("external", "no_revision_available")
RESULTS_REPO = "https://github.com/embeddings-benchmark/results"


@dataclass(frozen=True)
class CheckReport:
    """The result of `check_results`.

    Attributes:
        benchmark: The canonical benchmark name checked against.
        models: The model folders checked (``<org__model>``), sorted.
        problems: Errors first, then warnings, each group in folder order.
        model_meta_blocks: For each model that mteb's registry does not know, by name: the ``ModelMeta`` code
            to add to mteb (`rumteb.reporting.meta_block.model_meta_block`).
    """

    benchmark: str
    models: Sequence[Path]
    problems: Sequence[Problem] = field(default_factory=list)
    model_meta_blocks: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors

    @property
    def errors(self) -> list[Problem]:
        """The problems that keep the folder off the leaderboard."""
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """The problems that do not (a dataset revision other than the pinned one, published history)."""
        return [p for p in self.problems if p.level == "warning"]


def check_results(
    path: str | os.PathLike[str],
    benchmark: str = "ruMTEB",
    against: str | os.PathLike[str] | None = None,
) -> CheckReport:
    """Check every model under ``path`` for what the ruMTEB leaderboard and the results repository need.

    Args:
        path: A results folder in mteb's layout, at any level: an mteb cache root (holding ``results/``), a
            ``results/`` folder, a model folder ``<org__model>`` or one of its revision folders.
        benchmark: ``"ruMTEB"`` (alias ``"ruMTEB(v1)"``) or ``"ruMTEB(v1.1)"``.
        against: A clone of the results repository (or its ``results/`` folder): each file is compared with the
            file of the same model, revision and task there, as the repository's CI compares a pull request
            with ``main`` (no split, subset or language removed; main scores within 0.001).

    Returns:
        The report; ``report.ok`` is False when any error was found.

    Raises:
        LookupError: Unknown benchmark (with the closest names).
        rumteb.reporting.result_file.ResultsError: ``path`` is not a folder or holds no ruMTEB result file.
        rumteb.errors.ParameterError: ``against`` is not a clone of the results repository.

    Example:
        >>> for problem in check_results("out/results", "ruMTEB").problems:
        ...     print(problem)
    """
    from rumteb.benchmark import canonical_benchmark_name
    from rumteb.reporting import result_file, results, submission

    benchmark = canonical_benchmark_name(benchmark)
    root = Path(path).expanduser()
    if not root.is_dir():
        raise result_file.ResultsError(
            f"The 'path' parameter of check_results must be an existing results folder. Got {str(root)!r} "
            "instead."
        )
    clone = submission.results_folder_of_clone(against) if against is not None else None
    folders = results._revision_folders(root)
    by_model: dict[Path, list[Path]] = {}
    for folder in folders:
        if any(p.stem in _task_names() for p in folder.glob("*.json")):
            by_model.setdefault(folder.parent, []).append(folder)
    if not by_model:
        raise result_file.ResultsError(
            f"No ruMTEB result files under {root}: expected <org__model>/<revision>/<Task>.json files named "
            "after ruMTEB tasks (e.g. TERRa.json), as mteb writes them."
        )
    problems: list[Problem] = []
    blocks: dict[str, str] = {}
    for model_folder, revisions in sorted(by_model.items()):
        problems += _check_model(model_folder, sorted(revisions), benchmark)
        for folder in sorted(revisions):
            problems += submission.check_folder(folder)
            problems += submission.check_against(folder, clone) if clone is not None else []
        problems += _check_registered(sorted(revisions), blocks)
    problems.sort(key=lambda p: p.level != "error")  # stable: errors first, each group in folder order
    return CheckReport(
        benchmark=benchmark, models=sorted(by_model), problems=problems, model_meta_blocks=blocks
    )


def _check_registered(revisions: Sequence[Path], blocks: dict[str, str]) -> list[Problem]:
    """The model in mteb's registry (else an error, and its ``ModelMeta`` block from its newest meta folder)."""
    from rumteb.reporting import meta_block, submission

    with_meta = [f for f in revisions if (f / "model_meta.json").is_file()]
    name = revisions[0].parent.name.replace("__", "/", 1)
    for folder in with_meta:
        found = submission.model_name(folder)
        name = found or name
    if meta_block.is_registered(name):
        return []
    fix = "add a ModelMeta for it to mteb/models/model_implementations/ in a pull request to mteb"
    if with_meta and submission.model_name(with_meta[-1]):
        blocks[name] = meta_block.model_meta_block(with_meta[-1])
        fix += " (rumteb check prints it, or writes it with --model-meta-out)"
    else:
        fix += " (rumteb check writes one from the model_meta.json that rumteb run writes)"
    return [
        Problem(
            "error",
            revisions[0].parent,
            f"the model {name!r} is not in mteb's model registry: the results repository's CI fails until a "
            "ModelMeta for it is merged into mteb (tests/test_model_implementation.py).",
            fix + ".",
        )
    ]


def _task_names() -> set[str]:
    from rumteb.tasks import TASKS_BY_NAME

    return set(TASKS_BY_NAME)


def _check_model(model_folder: Path, revisions: list[Path], benchmark: str) -> list[Problem]:
    from rumteb.reporting import leaderboard, result_file, submission
    from rumteb.reporting.result_file import ResultsError

    problems: list[Problem] = []
    plan = {item.name: item for item in leaderboard._plan(benchmark)}
    read: dict[str, list[Any]] = {}  # task -> readable TaskScores found for it
    unreadable: set[str] = set()  # reported once, as unreadable, not again as missing
    name = model_folder.name.replace("__", "/", 1)
    for folder in revisions:
        meta_name, folder_problems = _check_revision_folder(folder)
        name = meta_name or name
        problems += folder_problems
        for file in sorted(folder.glob("*.json")):
            if file.stem not in plan:
                continue
            if submission.declared_task_name(file) not in (None, file.stem):
                unreadable.add(
                    file.stem
                )  # a task name other than the file's: reported by the submission rules
                continue
            try:
                scores = result_file.read_task_result(file)
            except ResultsError as err:
                unreadable.add(file.stem)
                problems.append(
                    Problem("error", file, str(err), f"re-run the task: {rerun_command(name, [file.stem])}.")
                )
                continue
            read.setdefault(file.stem, []).append(scores)
            problems += _check_task_file(scores, plan[file.stem].keys, name)
    missing = [task for task in plan if task not in read and task not in unreadable]
    if missing:
        problems.append(
            Problem(
                "error",
                model_folder,
                f"{len(missing)} of the {len(plan)} {benchmark} tasks have no result: {', '.join(missing)}.",
                f"run them: {rerun_command(name, missing)}.",
            )
        )
    return problems


def _check_task_file(scores: Any, keys: Sequence[tuple[str, str]], model: str) -> list[Problem]:
    """The leaderboard's splits and subsets present with finite scores; the dataset revision the pinned one."""
    from rumteb.tasks import TASKS_BY_NAME

    problems = []
    absent = [f"{split}/{subset}" for split, subset in keys if (split, subset) not in scores.scores]
    if absent:
        problems.append(
            Problem(
                "error",
                scores.path,
                f"no main score for {', '.join(absent)} (split/subset), which the leaderboard averages; the "
                f"file has {', '.join(f'{s}/{h}' for s, h in sorted(scores.scores)) or 'none'}.",
                f"re-run the task on the benchmark's splits: {rerun_command(model, [scores.task])}.",
            )
        )
    pinned = TASKS_BY_NAME[scores.task].metadata.dataset["revision"]
    if scores.dataset_revision != pinned:
        problems.append(
            Problem(
                "warning",
                scores.path,
                f"dataset revision {scores.dataset_revision}, not the pinned {pinned} (the leaderboard shows "
                "results of earlier revisions of the same data).",
                f"none needed; to score today's data: {rerun_command(model, [scores.task])}.",
            )
        )
    return problems


def _check_revision_folder(folder: Path) -> tuple[str | None, list[Problem]]:
    """``model_meta.json``, the revision, the mteb version and ``run_settings.jsonl`` of one revision folder.

    Returns the model name from ``model_meta.json`` (None when absent or unreadable) and the problems.
    """
    from rumteb.reporting import versions

    tasks = _task_names()
    files = [p for p in sorted(folder.glob("*.json")) if p.stem in tasks]
    recorded = {p: version for p in files for readable, version in [versions.mteb_version(p)] if readable}
    # what mteb 2 writes (rumteb run included); older folders are the results repository's history
    if not versions.is_modern(folder):
        found = sorted({".".join(map(str, v)) for v in recorded.values() if v is not None})
        written = f"mteb {', '.join(found)}" if found else "an mteb version it does not record"
        fix = "none for published history; to submit new results, re-run with rumteb run (mteb 2)."
        return None, [
            Problem(
                "warning",
                folder,
                f"historic results: written by {written}, without model_meta.json. The results repository "
                "keeps such folders, but takes new results only from mteb > 2.0.0 with model_meta.json and "
                "run_settings.jsonl.",
                fix,
            )
        ]
    problems: list[Problem] = []
    name, meta_problems = _check_model_meta(folder)
    problems += meta_problems
    model = name or folder.parent.name.replace("__", "/", 1)
    old = [p.stem for p, v in recorded.items() if v is None or v <= (2, 0, 0)]
    if old:
        problems.append(
            Problem(
                "error",
                folder,
                f"{len(old)} result files record no mteb version or one <= 2.0.0 ({', '.join(old)}); the results "
                "repository takes new results only from mteb > 2.0.0.",
                f"re-run them with rumteb run (mteb 2): {rerun_command(model, old)} --overwrite-strategy always.",
            )
        )
    problems += versions.check_run_settings(folder, files, model)
    return name, problems


def _check_model_meta(folder: Path) -> tuple[str | None, list[Problem]]:
    path = folder / "model_meta.json"
    model_folder = folder.parent.name
    rerun = f"run the model by its Hub id: rumteb run -m {model_folder.replace('__', '/', 1)} (writes it)"
    if not path.is_file():
        return None, [Problem("error", folder, "no model_meta.json.", rerun + ".")]
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        return None, [Problem("error", path, f"cannot be read as JSON ({err}).", rerun + ".")]
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        return None, [Problem("error", path, "has no 'name' (a non-empty string).", rerun + ".")]
    name: str = meta["name"]
    problems = []
    if name.startswith("local/") or model_folder.startswith("local__"):
        problems.append(
            Problem(
                "error",
                path,
                f"the model {name!r} is a local folder: its revision is a hash of its weight files, not a Hub "
                "commit, and nobody can load it from the name.",
                "upload the model to the Hugging Face Hub and run it by its id: rumteb run -m ORG/NAME.",
            )
        )
    elif name.replace(" ", "_").replace("/", "__") != model_folder:
        problems.append(
            Problem(
                "error",
                path,
                f"names the model {name!r}, but the folder is {model_folder!r} (expected "
                f"{name.replace(' ', '_').replace('/', '__')!r}).",
                "move the files into the folder its name gives, or fix the name.",
            )
        )
    if "revision" not in meta:
        problems.append(Problem("error", path, "has no 'revision'.", rerun + "."))
        return name, problems
    revision = meta["revision"] if meta["revision"] is not None else folder.name
    if revision != folder.name:
        problems.append(
            Problem(
                "error",
                path,
                f"records revision {revision!r}, but the folder is {folder.name!r}.",
                "move the files into the folder of their revision, or fix model_meta.json.",
            )
        )
    elif not name.startswith("local/") and not _COMMIT.match(str(revision)):
        problems.append(
            Problem(
                "error",
                path,
                f"the revision {revision!r} is not a Hub commit (40 hex digits).",
                f"run a pinned commit of the model: rumteb run -m {name} --model-revision COMMIT.",
            )
        )
    return name, problems
