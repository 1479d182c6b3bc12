"""Read mteb result files of ruMTEB tasks, average them as the ruMTEB leaderboard does, format summary tables.

Results are read in mteb's layout, ``<org__model>/<revision>/<Task>.json`` (an optional ``model_meta.json``
beside the task files gives the model's name), from an mteb ResultCache root (``results/`` and, if present,
``remote/results/``), a ``results/`` folder, a model folder or a revision folder. Both mteb result formats are
read: ``scores -> split -> [{hf_subset, main_score, <metrics>}]`` (mteb >= 1.11) and the older
``split -> {<metrics>}`` or ``split -> {subset: {<metrics>}}``.

Gotcha: averages are never taken over fewer tasks than the benchmark has. A model without a score for every
split and subset of a task has that task listed as missing, and the means that need it are None.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import re
import reprlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rumteb.benchmark import BENCHMARK_TASKS, EVAL_SPLITS, canonical_benchmark_name
from rumteb.tasks import TASKS_BY_NAME

logger = logging.getLogger(__name__)

#: The seven task types of ruMTEB, in the leaderboard's column order.
TASK_TYPES = (
    "Classification",
    "Clustering",
    "MultilabelClassification",
    "PairClassification",
    "Reranking",
    "Retrieval",
    "STS",
)
#: The columns of `summary_table`, in order.
TABLE_COLUMNS = ("model", *TASK_TYPES, "Mean(Task)", "Mean(TaskType)")
#: The formats of `format_table`.
FORMATS = ("md", "csv", "json", "latex")

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
#: Revision folder names that stand for "revision unknown": results in a named revision win over them.
_NO_REVISION = {"external", "no_revision_available"}
_ERRORS = ("raise", "skip")

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60


class ResultsError(ValueError):
    """A results file or folder that cannot be read. The message names the file."""


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


@dataclass(frozen=True)
class BenchmarkScores:
    """One model's scores on a benchmark (0-1 scale). None marks a score that needs a missing task.

    Attributes:
        model: The model name.
        benchmark: The canonical benchmark name.
        tasks: Task name -> mean main score over the benchmark's splits and the Russian subset (benchmark
            order).
        missing: Task name -> why it has no score.
        types: Task type -> mean over its tasks, in `TASK_TYPES` order.
        mean_task: ``Mean(Task)``, the mean over all tasks.
        mean_task_type: ``Mean(TaskType)``, the mean of the type means.
    """

    model: str
    benchmark: str
    tasks: Mapping[str, float | None]
    missing: Mapping[str, str]
    types: Mapping[str, float | None]
    mean_task: float | None
    mean_task_type: float | None


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
        raise ValueError(
            f"The 'errors' parameter of load_results must be 'raise' or 'skip'. Got {errors!r} instead."
        )
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


# --- benchmark scores ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TaskPlan:
    name: str
    type: str
    keys: tuple[tuple[str, str], ...]  # the (split, hf_subset) pairs averaged into the task's score


@cache
def _plan(benchmark: str) -> tuple[_TaskPlan, ...]:
    """Per task of ``benchmark``: its type and the splits and subsets the leaderboard averages."""
    plan = []
    for name in BENCHMARK_TASKS[benchmark]:
        metadata = TASKS_BY_NAME[name].metadata
        splits = EVAL_SPLITS.get(name, metadata.eval_splits)
        keys = tuple((split, subset) for split in splits for subset in metadata.hf_subsets)
        plan.append(_TaskPlan(name, metadata.type, keys))
    return tuple(plan)


def score_benchmark(model: ModelScores, benchmark: str = "ruMTEB") -> BenchmarkScores:
    """One model's task scores, type means, ``Mean(Task)`` and ``Mean(TaskType)`` on a benchmark.

    A task's score is the mean of its main score over the benchmark's splits (Massive*: validation and test;
    RuSTSBenchmarkSTS: test only) on the Russian subset (``ru`` for multilingual datasets, else ``default``).
    A task lacking any of these is missing; the type mean and overall means that need it are None.

    Args:
        model: Results from `load_results`.
        benchmark: ``"ruMTEB"`` (alias ``"ruMTEB(v1)"``) or ``"ruMTEB(v1.1)"``.

    Raises:
        LookupError: Unknown benchmark name.

    Example:
        >>> e5 = load_results("results/intfloat__multilingual-e5-small")[0]
        >>> scores = score_benchmark(e5)
        >>> round(100 * scores.mean_task, 2), round(100 * scores.mean_task_type, 2), scores.missing
        (57.21, 57.02, {})
    """
    benchmark = canonical_benchmark_name(benchmark)
    plan = _plan(benchmark)
    tasks: dict[str, float | None] = {}
    missing: dict[str, str] = {}
    for item in plan:
        tasks[item.name], why = _task_score(model, item)
        if why:
            missing[item.name] = why
    types = {kind: _mean([tasks[i.name] for i in plan if i.type == kind]) for kind in TASK_TYPES}
    return BenchmarkScores(
        model=model.model,
        benchmark=benchmark,
        tasks=tasks,
        missing=missing,
        types=types,
        mean_task=_mean(list(tasks.values())),
        mean_task_type=_mean(list(types.values())),
    )


def _task_score(model: ModelScores, item: _TaskPlan) -> tuple[float | None, str]:
    result = model.tasks.get(item.name)
    if result is None:
        unreadable = [msg for path, msg in model.skipped.items() if path.stem == item.name]
        return None, unreadable[0] if unreadable else "no result file"
    absent = [f"{split}/{subset}" for split, subset in item.keys if (split, subset) not in result.scores]
    if absent:
        return None, f"no score for {', '.join(absent)} in {result.path}"
    return math.fsum(result.scores[key] for key in item.keys) / len(item.keys), ""


def _mean(values: Sequence[float | None]) -> float | None:
    if not values or any(v is None for v in values):
        return None
    return math.fsum(v for v in values if v is not None) / len(values)


# --- tables -------------------------------------------------------------------------------------------------


def summary_table(models: Sequence[ModelScores], benchmark: str = "ruMTEB") -> list[dict[str, Any]]:
    """The leaderboard summary: one row per model, in the given order, keys as `TABLE_COLUMNS`.

    Scores are x100 and rounded to 2 decimals; None where the model misses a task the score needs (see
    `table_notes` for which).

    Example:
        >>> rows = summary_table(load_results("results/intfloat__multilingual-e5-small"))
        >>> rows[0]["model"], rows[0]["Retrieval"], rows[0]["Mean(Task)"]
        ('intfloat/multilingual-e5-small', 65.85, 57.21)
    """
    rows = []
    for model in models:
        scores = score_benchmark(model, benchmark)
        values = [*scores.types.values(), scores.mean_task, scores.mean_task_type]
        rows.append(
            {"model": model.model, **dict(zip(TABLE_COLUMNS[1:], map(_percent, values), strict=True))}
        )
    return rows


def table_notes(models: Sequence[ModelScores], benchmark: str = "ruMTEB") -> list[str]:
    """One line per model with missing tasks, and one per result file skipped as unreadable.

    Example:
        >>> # after deleting its TERRa.json:
        >>> table_notes(load_results("results/intfloat__multilingual-e5-small"))
        ['model intfloat/multilingual-e5-small: 1 of 23 tasks missing: TERRa']
    """
    notes = []
    for model in models:
        scores = score_benchmark(model, benchmark)
        if scores.missing:
            notes.append(
                f"model {model.model}: {len(scores.missing)} of {len(scores.tasks)} tasks missing: "
                + ", ".join(scores.missing)
            )
        notes += [f"model {model.model}: unreadable file skipped: {why}" for why in model.skipped.values()]
    return notes


def format_table(rows: Sequence[Mapping[str, Any]], fmt: str = "md", *, notes: Sequence[str] = ()) -> str:
    """Render `summary_table` rows as Markdown, CSV, JSON or LaTeX; the text ends with a newline.

    Missing values are ``n/a`` in md and latex, empty in csv, null in json. ``notes`` (from `table_notes`) go
    below the table in md (a list) and latex (``%`` comments); csv and json stay machine-readable, so callers
    write the notes elsewhere (stderr) and passing them raises.

    Args:
        rows: Dicts with the same keys, e.g. from `summary_table`.
        fmt: ``"md"``, ``"csv"``, ``"json"`` or ``"latex"``.
        notes: Lines to add below an md or latex table.

    Raises:
        ValueError: Unknown ``fmt``, or ``notes`` with csv or json.

    Example:
        >>> print(format_table([{"model": "m", "Mean(Task)": 56.44}], "csv"), end="")
        model,Mean(Task)
        m,56.44
    """
    if fmt not in FORMATS:
        raise ValueError(
            f"The 'fmt' parameter of format_table must be one of {FORMATS}. Got {fmt!r} instead."
        )
    if notes and fmt in ("csv", "json"):
        raise ValueError(
            f"The 'notes' parameter of format_table must be empty for fmt={fmt!r} (write the notes to "
            f"stderr). Got {len(notes)} notes instead."
        )
    columns = list(rows[0]) if rows else list(TABLE_COLUMNS)
    if fmt == "json":
        return json.dumps([dict(row) for row in rows], indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(columns, rows)
    if fmt == "latex":
        return _latex(columns, rows, notes)
    return _markdown(columns, rows, notes)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)


def _cell(value: Any, missing: str) -> str:
    if value is None:
        return missing
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _csv(columns: list[str], rows: Sequence[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(row[c], "") for c in columns] for row in rows)
    return out.getvalue()


def _markdown(columns: list[str], rows: Sequence[Mapping[str, Any]], notes: Sequence[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|---|" + "---:|" * (len(columns) - 1)]
    lines += [
        "| " + " | ".join(_cell(row[c], "n/a").replace("|", r"\|") for c in columns) + " |" for row in rows
    ]
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    return "\n".join(lines) + "\n"


_LATEX_SPECIALS = {c: "\\" + c for c in "&%$#_{}"} | {
    "~": r"\textasciitilde{}",
    "^": r"\^{}",
    "\\": r"\textbackslash{}",
}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIALS.get(c, c) for c in text)


def _latex(columns: list[str], rows: Sequence[Mapping[str, Any]], notes: Sequence[str]) -> str:
    lines = [r"\begin{tabular}{l" + "r" * (len(columns) - 1) + "}", r"\hline"]
    lines.append(" & ".join(_latex_escape(c) for c in columns) + r" \\")
    lines.append(r"\hline")
    lines += [" & ".join(_latex_escape(_cell(row[c], "n/a")) for c in columns) + r" \\" for row in rows]
    lines += [r"\hline", r"\end{tabular}"]
    lines += [f"% {note}" for note in notes]
    return "\n".join(lines) + "\n"
