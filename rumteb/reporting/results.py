"""Read the ruMTEB results of every model under one or more result folders into `ModelScores` (`load_results`).

Results are read in mteb's layout, ``<org__model>/<revision>/<Task>.json`` (an optional ``model_meta.json``
beside the task files gives the model's name), from an mteb ResultCache root (``results/`` and, if present,
``remote/results/``), a ``results/`` folder, a model folder or a revision folder. Each file is read by
`rumteb.reporting.result_file.read_task_result`, and a model's revision folders are merged into one result per
task; `rumteb.reporting.leaderboard` averages them as the ruMTEB leaderboard does.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rumteb.errors import ParameterError
from rumteb.reporting.result_file import (
    ResultsError,
    TaskScores,
    _content_error,
    _read_json,
    read_task_result,
)
from rumteb.tasks import TASKS_BY_NAME

logger = logging.getLogger(__name__)

#: Revision folder names that stand for "revision unknown": results in a named revision win over them.
_NO_REVISION = {"external", "no_revision_available"}
_ERRORS = ("raise", "skip")


@dataclass(frozen=True)
class ModelScores:
    """The ruMTEB results of one model, merged over its revision folders.

    Attributes:
        model: The model name, e.g. ``"intfloat/multilingual-e5-small"``.
        tasks: Task name -> the result used for it (one per task; see `load_results` for the choice).
        skipped: Result file -> why it could not be read (only with ``errors="skip"``).
    """

    model: str
    tasks: Mapping[str, TaskScores]
    skipped: Mapping[Path, str] = field(default_factory=dict)

    @property
    def revisions(self) -> list[str]:
        """The revision folders the used results come from, sorted."""
        return sorted({result.revision for result in self.tasks.values()})


# --- reading folders ----------------------------------------------------------------------------------------


def load_results(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    errors: str = "raise",
) -> list[ModelScores]:
    """Read the ruMTEB results of every model under one or more result folders.

    Each path may be an mteb ResultCache root (holding ``results/``), a ``results/`` folder, a model folder
    (``<org__model>``) or a revision folder. Only files named after a rumteb task are read; experiment
    sub-folders are not. A model's revision folders are merged; a task found in several gets the result from
    a named revision over ``external``/``no_revision_available``, then the newest mteb version (an info log
    names the choice).

    Args:
        paths: One folder or several.
        errors: ``"raise"`` (default): the first unreadable file raises. ``"skip"``: it is logged as a
            warning and recorded in `ModelScores.skipped`; its task then counts as missing, and `table_notes`
            names the file.

    Returns:
        One `ModelScores` per model, sorted by model name.

    Raises:
        ResultsError: A path is not a folder, holds no ruMTEB result file, or (``errors="raise"``) a result
            file or ``model_meta.json`` cannot be read.

    Example:
        >>> models = load_results("~/.cache/mteb")
        >>> [m.model for m in models]
        ['intfloat/multilingual-e5-small']
    """
    if errors not in _ERRORS:
        raise ParameterError.invalid("load_results", "errors", "'raise' or 'skip'", errors)
    found: dict[str, list[TaskScores]] = {}
    skipped: dict[str, dict[Path, str]] = {}
    for root in _as_paths(paths):
        task_files = 0
        for folder in _revision_folders(root):
            model = _model_name(folder, errors, skipped)
            for file in sorted(folder.glob("*.json")):
                if file.stem not in TASKS_BY_NAME:
                    continue
                task_files += 1
                try:
                    found.setdefault(model, []).append(read_task_result(file))
                except ResultsError as err:
                    _skip_or_raise(err, file, errors, skipped.setdefault(model, {}))
        if not task_files:
            raise ResultsError(
                f"No ruMTEB result files under {root}: expected <org__model>/<revision>/<Task>.json files "
                "named after ruMTEB tasks (e.g. TERRa.json), as mteb writes them."
            )
    return [
        ModelScores(model=name, tasks=_merge(found.get(name, [])), skipped=skipped.get(name, {}))
        for name in sorted({*found, *skipped})
    ]


def _as_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    roots = [Path(p).expanduser() for p in items]
    for root in roots:
        if not root.is_dir():
            raise ResultsError(
                "The 'paths' parameter of load_results must be existing result folders. "
                f"Got {str(root)!r} instead."
            )
    return roots


def _revision_folders(root: Path) -> list[Path]:
    """The folders holding ``<Task>.json`` files, whichever level of mteb's layout ``root`` is."""
    if (root / "results").is_dir():
        bases = [root / "results", root / "remote" / "results"]
        return [folder for base in bases if base.is_dir() for folder in _revision_folders(base)]
    if _has_json(root):
        return [root]
    revisions = [d for d in _subfolders(root) if _has_json(d)]
    if revisions:
        return revisions
    return [rev for model in _subfolders(root) for rev in _subfolders(model) if _has_json(rev)]


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _has_json(folder: Path) -> bool:
    return any(p.suffix == ".json" and p.is_file() for p in folder.iterdir())


def _model_name(folder: Path, errors: str, skipped: dict[str, dict[Path, str]]) -> str:
    """The ``name`` in ``model_meta.json`` if any, else the model folder name, ``__`` read as ``/``."""
    fallback = folder.parent.name.replace("__", "/", 1)
    meta_path = folder / "model_meta.json"
    if not meta_path.is_file():
        return fallback
    try:
        meta = _read_json(meta_path)
        if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
            raise _content_error(meta_path, "it", "an object with a non-empty string 'name'", meta)
    except ResultsError as err:
        _skip_or_raise(err, meta_path, errors, skipped.setdefault(fallback, {}))
        return fallback
    return str(meta["name"])


def _skip_or_raise(err: ResultsError, path: Path, errors: str, skipped: dict[Path, str]) -> None:
    if errors == "raise":
        raise err
    logger.warning("Skipping an unreadable result file: %s", err)
    skipped[path] = str(err)


def _merge(results: Sequence[TaskScores]) -> dict[str, TaskScores]:
    by_task: dict[str, list[TaskScores]] = {}
    for result in results:
        by_task.setdefault(result.task, []).append(result)
    merged = {}
    for task, candidates in sorted(by_task.items()):
        merged[task] = max(candidates, key=_preference)
        if len(candidates) > 1:
            logger.info(
                "%s found in revisions %s; using %s.",
                task,
                ", ".join(sorted(c.revision for c in candidates)),
                merged[task].path,
            )
    return merged


def _preference(result: TaskScores) -> tuple[bool, tuple[int, ...], str]:
    version = tuple(int(n) for n in re.findall(r"\d{1,9}", result.mteb_version or "")[:4])
    return result.revision not in _NO_REVISION, version, str(result.path)
