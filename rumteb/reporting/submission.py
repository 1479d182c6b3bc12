"""The results repository's own CI rules (github.com/embeddings-benchmark/results), run offline on one revision folder.

Each rule follows one of that repository's tests or workflows, named in the messages:

- ``tests/test_task_name_matches_filename.py``: every result file's ``task_name`` (or the legacy
  ``mteb_dataset_name``) equals its file name;
- ``tests/test_ensure_correct_metadata.py``: the model name in ``model_meta.json`` has an organization
  (``org/model``);
- ``.github/workflows/check_file_sizes.yml``: no file over 10 MB (10 * 1024 * 1024 bytes);
- against a clone of the repository (``check_against``), as its PR tests compare a changed file with the same path
  on ``main``: ``tests/test_no_splits_are_removed.py`` (no split or ``hf_subset`` removed),
  ``tests/test_no_languages_are_removed.py`` (no language removed from a split and subset) and
  ``tests/test_results_diff.py`` (each main score within 0.001 of the existing one, read with mteb's
  ``TaskResult.only_main_score``, scores above 1 divided by 100); ``tests/test_duplicate_results.py`` (a new task
  file whose task the repository has under another revision of the model); and a file that the repository does not
  have yet must come from mteb > 2.0.0, as the repository takes new results (with ``run_settings.jsonl``).

Example:
    >>> folder = Path("out/results/org__model/0123456789abcdef0123456789abcdef01234567")
    >>> problems = check_folder(folder) + check_against(folder, results_folder_of_clone("results-clone"))
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rumteb.errors import ParameterError
from rumteb.reporting.findings import Problem, rerun_command
from rumteb.reporting.versions import is_modern

logger = logging.getLogger(__name__)

#: The largest file the results repository takes (its check_file_sizes workflow: ``-gt 10 MiB`` fails).
MAX_FILE_BYTES = 10 * 1024 * 1024
#: The largest change of a main score against an existing result of the same revision (``MTEB_SCORE_EPSILON``).
SCORE_TOLERANCE = 0.001


def results_folder_of_clone(path: str | os.PathLike[str]) -> Path:
    """The ``results/`` folder of a clone of the results repository (the clone itself or its ``results/``).

    Raises:
        rumteb.errors.ParameterError: ``path`` is neither.

    Example:
        >>> results_folder_of_clone("../results-clone")
        PosixPath('../results-clone/results')
    """
    root = Path(path).expanduser()
    if (root / "results").is_dir():
        return root / "results"
    if root.is_dir() and root.name == "results":
        return root
    raise ParameterError.invalid(
        "check_results",
        "against",
        "a clone of the results repository (a folder holding results/<org__model>/<revision>/<Task>.json)",
        str(root),
        "Clone it: git clone https://github.com/embeddings-benchmark/results",
    )


def check_folder(folder: Path) -> list[Problem]:
    """Task name = file name, no file over 10 MB, an organization in ``model_meta.json``'s name.

    Files named after ruMTEB tasks that cannot be read are left to the caller (it reports them, with the command
    that re-runs the task); any other unreadable ``*.json`` is reported here.
    """
    from rumteb.tasks import TASKS_BY_NAME

    problems = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not _stays_out(p)):
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.append(
                Problem(
                    "error",
                    path,
                    f"is {size / 2**20:.1f} MB; the results repository takes no file over 10 MB "
                    "(.github/workflows/check_file_sizes.yml).",
                    "drop the per-example outputs from the file (the repository's reduce_large_json_files.py "
                    "does), keeping every split and subset with its scores.",
                )
            )
        if path.suffix != ".json" or path.name == "model_meta.json":
            continue
        declared = declared_task_name(path)
        if declared is None and path.stem in TASKS_BY_NAME:
            continue  # unreadable: reported where the file is read, with the command that re-runs the task
        if declared != path.stem:
            problems.append(_name_problem(path, declared))
    problems += _organization(folder)
    return problems


def declared_task_name(path: Path) -> str | None:
    """The task a result file says it holds (``task_name``, or the legacy ``mteb_dataset_name``).

    Returns:
        The name; ``""`` when the file names none; None when it is not a readable JSON object.
    """
    data = _load(path)
    if data is None:
        return None
    name = data.get("task_name") or data.get("mteb_dataset_name")
    return name if isinstance(name, str) else ""


def model_name(folder: Path) -> str | None:
    """The model's name in a revision folder's ``model_meta.json``; None when absent or unreadable."""
    meta = _load(folder / "model_meta.json")
    name = meta.get("name") if meta else None
    return name if isinstance(name, str) and name else None


def _name_problem(path: Path, declared: str | None) -> Problem:
    test = "(tests/test_task_name_matches_filename.py)"
    if declared:
        return Problem(
            "error",
            path,
            f"holds task {declared!r} but is named {path.name} {test}.",
            f"rename the file to {declared}.json, or keep only the task its name says.",
        )
    return Problem(
        "error",
        path,
        f"is not a JSON object with a 'task_name' (or 'mteb_dataset_name') {test}.",
        "remove it from the folder, or re-run its task with rumteb run.",
    )


def _organization(folder: Path) -> list[Problem]:
    name = model_name(folder)
    if name is None or "/" in name:
        return []  # absent or nameless: reported with model_meta.json's other checks
    return [
        Problem(
            "error",
            folder / "model_meta.json",
            f"names the model {name!r}, without an organization (tests/test_ensure_correct_metadata.py wants "
            "'org/model').",
            "run the model by its Hub id, ORG/NAME.",
        )
    ]


def check_against(folder: Path, clone: Path) -> list[Problem]:
    """Compare a revision folder with the same ``<org__model>/<revision>`` folder of a clone's ``results/``.

    Args:
        folder: A revision folder of the submission.
        clone: The clone's ``results/`` folder (`results_folder_of_clone`).

    Returns:
        One problem per file that removes splits, subsets or languages, or moves main scores by more than 0.001;
        one for new files whose tasks the repository has under another revision; and, in a folder written by
        mteb < 2 only, one for the files the repository does not have yet.

    Example:
        >>> check_against(folder, results_folder_of_clone("results-clone"))
        []
    """
    target = clone / folder.parent.name / folder.name
    problems: list[Problem] = []
    new_files = []
    for path in sorted(folder.glob("*.json")):
        if path.name == "model_meta.json":
            continue
        new = _load(path)
        if new is None:
            continue  # reported where the file is read
        old = _load(target / path.name)
        if old is None:
            new_files.append(path)
            continue
        problems += _compare(path, old, new)
    problems += _duplicates(folder, clone, new_files)
    if new_files and not is_modern(folder):
        problems.append(
            Problem(
                "error",
                folder,
                f"{len(new_files)} result files are not in the results repository yet "
                f"({', '.join(p.stem for p in new_files)}) and come from mteb <= 2.0.0; it takes new results "
                "only from mteb > 2.0.0, with model_meta.json and run_settings.jsonl.",
                f"re-run them with rumteb run (mteb 2): "
                f"{rerun_command(folder.parent.name.replace('__', '/', 1), [p.stem for p in new_files])}.",
            )
        )
    return problems


def _duplicates(folder: Path, clone: Path, new_files: list[Path]) -> list[Problem]:
    """New task files that the repository holds under another revision of the model (one revision per task)."""
    model = clone / folder.parent.name
    others = (
        sorted(d for d in model.iterdir() if d.is_dir() and d.name != folder.name) if model.is_dir() else []
    )
    found = [(p.stem, o.name) for p in new_files for o in others if (o / p.name).is_file()]
    if not found:
        return []
    return [
        Problem(
            "error",
            folder,
            f"{len(found)} tasks have results under another revision of the model in the results repository "
            f"({', '.join(f'{task} in {revision}' for task, revision in found)}); its CI allows one revision per "
            "task (tests/test_duplicate_results.py).",
            "delete the other revision's files in the same pull request (the test keeps the revision mteb's "
            "registry names), or leave these tasks out.",
        )
    ]


def _compare(path: Path, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Problem]:
    problems = []
    old_keys, new_keys = _splits_subsets(old), _splits_subsets(new)
    removed = sorted(old_keys - new_keys)
    if removed:
        problems.append(
            Problem(
                "error",
                path,
                f"removes {_splits_shown(removed, old_keys)}, which the results repository's file has "
                "(tests/test_no_splits_are_removed.py).",
                "keep every split and subset of the existing file: re-run the task on them all, or copy their "
                "entries from the existing file.",
            )
        )
    old_langs, new_langs = _languages(old), _languages(new)
    lost = {k: sorted(v - new_langs.get(k, set())) for k, v in old_langs.items() if k in new_keys}
    lost = {k: v for k, v in lost.items() if v}
    if lost:
        shown = "; ".join(f"{s}/{h}: {', '.join(v)}" for (s, h), v in sorted(lost.items()))
        problems.append(
            Problem(
                "error",
                path,
                f"removes languages ({shown}), which the results repository's file has "
                "(tests/test_no_languages_are_removed.py).",
                "keep the existing file's 'languages' of each split and subset.",
            )
        )
    old_scores, new_scores = main_scores(old), main_scores(new)
    moved = [
        (key, old_scores[key], value)
        for key, value in sorted(new_scores.items())
        if key in old_scores and abs(value - old_scores[key]) > SCORE_TOLERANCE
    ]
    if moved:
        shown = "; ".join(f"{s}/{h} {a:.4f} -> {b:.4f} ({b - a:+.4f})" for (s, h), a, b in moved)
        problems.append(
            Problem(
                "error",
                path,
                f"main score moved by more than {SCORE_TOLERANCE} from the results repository's result of the "
                f"same revision: {shown} (tests/test_results_diff.py).",
                "reproduce the existing run (the same dataset revision, prompts, precision and mteb version) "
                "or submit the new scores under the model's new revision.",
            )
        )
    return problems


def _splits_shown(removed: list[tuple[str, str]], old: set[tuple[str, str]]) -> str:
    """``split validation (all 51 subsets)`` for a whole split, ``split/subset test/de-en`` otherwise."""
    parts = []
    for split in sorted({s for s, _ in removed}):
        gone = [h for s, h in removed if s == split]
        if len(gone) == len([h for s, h in old if s == split]):
            parts.append(f"split {split} (all {len(gone)} subsets)" if len(gone) > 1 else f"split {split}")
        else:
            parts.append(", ".join(f"split/subset {split}/{h}" for h in gone))
    return "; ".join(parts)


def _splits_subsets(data: Mapping[str, Any]) -> set[tuple[str, str]]:
    scores = data.get("scores")
    if not isinstance(scores, dict):
        return set()
    return {
        (split, entry["hf_subset"])
        for split, entries in scores.items()
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("hf_subset"), str)
    }


def _languages(data: Mapping[str, Any]) -> dict[tuple[str, str], set[str]]:
    languages: dict[tuple[str, str], set[str]] = {}
    scores = data.get("scores")
    for split, entries in (scores if isinstance(scores, dict) else {}).items():
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("languages"), list):
                key = (split, str(entry.get("hf_subset", "")))
                languages.setdefault(key, set()).update(map(str, entry["languages"]))
    return languages


def main_scores(data: Mapping[str, Any]) -> dict[tuple[str, str], float]:
    """The main score per (split, subset) as the results repository's ``tests/test_results_diff.py`` reads it.

    mteb's ``TaskResult.from_dict(data).only_main_score()``; NaN skipped, scores above 1 divided by 100. A file
    mteb cannot read gives no scores (logged), as there.

    Example:
        >>> main_scores(json.loads(Path("TERRa.json").read_text()))
        {('dev', 'default'): 0.5751046579848809}
    """
    from mteb import TaskResult

    try:
        result = TaskResult.from_dict(dict(data)).only_main_score()
    except (ValueError, TypeError, KeyError) as err:  # pydantic's ValidationError is a ValueError
        logger.warning("mteb cannot read a result of task %r: %s", data.get("task_name"), err)
        return {}
    scores = {}
    for split, entries in result.scores.items():
        for entry in entries:
            value = entry.get("main_score")
            if entry.get("hf_subset") is None or not isinstance(value, (int, float)) or math.isnan(value):
                continue
            scores[(split, entry["hf_subset"])] = value / 100 if value > 1 else float(value)
    return scores


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _stays_out(path: Path) -> bool:
    """rumteb's own records and dot files: not copied into the results repository."""
    return path.suffix == ".rumteb" or path.name.startswith(".")
