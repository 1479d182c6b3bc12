"""Read one mteb result file of a ruMTEB task into `TaskScores`: its main score per split and subset.

Both mteb result formats are read: ``scores -> split -> [{hf_subset, main_score, <metrics>}]`` (mteb >= 1.11) and
the older ``split -> {<metrics>}`` or ``split -> {subset: {<metrics>}}``. Any bad content raises `ResultsError`,
whose message names the file; reading whole result folders is `rumteb.reporting.results`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import reprlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rumteb.errors import RumtebError
from rumteb.tasks import TASKS_BY_NAME

logger = logging.getLogger(__name__)

#: Older names of a task's main score, found in published results made with older mteb versions.
_OLD_METRIC_NAMES = {"RuBQReranking": ("map",), "MIRACLReranking": ("NDCG@10(MIRACL)",)}
#: Top-level keys of an mteb < 1.11 result file that are not splits.
_LEGACY_KEYS = {
    "mteb_dataset_name",
    "mteb_version",
    "dataset_revision",
    "evaluation_time",
    "kg_co2_emissions",
}
#: Metric groups that mteb < 1.11 nested inside a subset (``"max": {"ap": ...}`` is today's ``max_ap``).
_LEGACY_GROUPS = {
    "cos_sim": "cosine",
    "euclidean": "euclidean",
    "manhattan": "manhattan",
    "dot": "dot",
    "max": "max",
}

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60


class ResultsError(RumtebError, ValueError):
    """A results file or folder that cannot be read, or that holds nothing to use. The message names the path."""


@dataclass(frozen=True)
class TaskScores:
    """The main score of one task, per (split, hf_subset), as read from one result file.

    Attributes:
        task: mteb's task name.
        path: The result file.
        scores: ``(split, hf_subset) -> main score`` on the file's 0-1 scale.
        mteb_version: The mteb version that wrote the file, if recorded.
        dataset_revision: The dataset revision evaluated, if recorded.
    """

    task: str
    path: Path
    scores: Mapping[tuple[str, str], float]
    mteb_version: str | None = None
    dataset_revision: str | None = None

    @property
    def revision(self) -> str:
        """The model revision: the name of the folder holding the file (``external`` for external results)."""
        return self.path.parent.name


# --- reading one file ---------------------------------------------------------------------------------------


def read_task_result(path: str | os.PathLike[str]) -> TaskScores:
    """Read the main score per (split, hf_subset) from one mteb result file.

    The main score is the rumteb task's ``main_score`` (for a file whose name is not a rumteb task, or an
    entry without that metric: the entry's ``main_score``). The older names ``map`` (RuBQReranking) and
    ``NDCG@10(MIRACL)`` (MIRACLReranking) are read as ``map_at_1000`` and ``ndcg_at_10``.

    Args:
        path: A ``<Task>.json`` file written by mteb.

    Returns:
        The scores; every subset of every split in the file, not only the Russian one.

    Raises:
        ResultsError: The file cannot be read, is not JSON, or has a missing or malformed score. The only
            exception raised for bad content; the message names the file.

    Example:
        >>> folder = "results/intfloat__multilingual-e5-small/fd1525a9fd15316a2d503bf26ab031a61d056e98"
        >>> result = read_task_result(f"{folder}/TERRa.json")
        >>> result.scores[("dev", "default")]
        0.5751046579848809
    """
    path = Path(path)
    data = _read_json(path)
    if not isinstance(data, dict):
        raise _content_error(path, "the top level", "a JSON object", data)
    task = _task_name(path, data)
    if "scores" in data:
        splits = data["scores"]
    elif "mteb_dataset_name" in data:
        splits = _legacy_splits(path, data)
    else:
        raise ResultsError(
            f"Cannot read the results file {path}: it has no 'scores' (is it an mteb result file?)."
        )
    if not isinstance(splits, dict):
        raise _content_error(path, "'scores'", "an object of splits", splits)
    scores: dict[tuple[str, str], float] = {}
    for split, entries in splits.items():
        for where, subset, entry in _entries(path, split, entries):
            if (split, subset) in scores:
                raise ResultsError(
                    f"Cannot read the results file {path}: split {split!r} has subset {subset!r} twice."
                )
            scores[(split, subset)] = _main_score(path, task, where, entry)
    return TaskScores(
        task=task,
        path=path,
        scores=scores,
        mteb_version=_optional_str(path, data, "mteb_version"),
        dataset_revision=_optional_str(path, data, "dataset_revision"),
    )


def _read_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ResultsError(f"Cannot read the results file {path}: {err.strerror or err}.") from err
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (
        ValueError,
        RecursionError,
    ) as err:  # JSONDecodeError, UnicodeDecodeError, too-long integers, nesting
        raise ResultsError(
            f"Cannot read the results file {path}: it is not valid UTF-8 JSON ({err})."
        ) from err


def _content_error(path: Path, where: str, expected: str, value: object) -> ResultsError:
    return ResultsError(
        f"Cannot read the results file {path}: {where} must be {expected}. Got {_short.repr(value)} instead."
    )


def _optional_str(path: Path, data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _content_error(path, repr(key), "a string or null", value)
    return value


def _task_name(path: Path, data: Mapping[str, Any]) -> str:
    name = (
        _optional_str(path, data, "task_name") or _optional_str(path, data, "mteb_dataset_name") or path.stem
    )
    if name != path.stem:
        raise ResultsError(
            f"Cannot read the results file {path}: it holds task {name!r} but is named {path.name}."
        )
    return name


def _legacy_splits(path: Path, data: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """mteb < 1.11 files (``split -> metrics`` or ``split -> subset -> metrics``) in today's shape."""
    splits: dict[str, list[dict[str, Any]]] = {}
    for split, value in data.items():
        if split in _LEGACY_KEYS:
            continue
        if not isinstance(value, dict):
            raise _content_error(path, f"split {split!r}", "an object of scores", value)
        by_subset = {k: v for k, v in value.items() if isinstance(v, dict) and k not in _LEGACY_GROUPS}
        if not by_subset:
            by_subset = {"default": value}
        splits[split] = [{**_flatten_groups(v), "hf_subset": k} for k, v in by_subset.items()]
    return splits


def _flatten_groups(scores: Mapping[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in scores.items() if not (k in _LEGACY_GROUPS and isinstance(v, dict))}
    for group, prefix in _LEGACY_GROUPS.items():
        if isinstance(scores.get(group), dict):
            flat.update({f"{prefix}_{k}": v for k, v in scores[group].items()})
    return flat


def _entries(path: Path, split: str, entries: Any) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    if not isinstance(entries, list):
        raise _content_error(path, f"scores[{split!r}]", "a list of subset scores", entries)
    for i, entry in enumerate(entries):
        where = f"scores[{split!r}][{i}]"
        if not isinstance(entry, dict):
            raise _content_error(path, where, "an object", entry)
        subset = entry.get("hf_subset")
        if not isinstance(subset, str):
            raise _content_error(path, f"{where}['hf_subset']", "a string", subset)
        yield where, subset, entry


def _main_score(path: Path, task: str, where: str, entry: Mapping[str, Any]) -> float:
    metadata = TASKS_BY_NAME[task].metadata if task in TASKS_BY_NAME else None
    names = (metadata.main_score, *_OLD_METRIC_NAMES.get(task, ())) if metadata else ()
    for name in names:
        if name in entry:
            return _check_score(path, f"{where}[{name!r}]", entry[name])
    if "main_score" in entry:
        if names:
            logger.warning("%s: no %r in %s; using its 'main_score'.", path, names[0], where)
        return _check_score(path, f"{where}['main_score']", entry["main_score"])
    wanted = " or ".join(repr(n) for n in (*names, "main_score"))
    raise ResultsError(f"Cannot read the results file {path}: {where} has no {wanted} score.")


def _check_score(path: Path, where: str, value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            score = float(value)
        except OverflowError:
            score = math.inf
        if math.isfinite(score) and -1.0 <= score <= 1.0:
            return score
    raise _content_error(path, where, "a number between -1 and 1", value)
