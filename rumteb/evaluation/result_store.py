"""mteb's result layout, written crash-safely and checked for staleness before a stored result is reused.

`SafeResultCache` is an ``mteb.ResultCache`` (same layout: ``results/<org__model>/<revision>/<Task>.json`` beside
``model_meta.json`` and ``run_settings.jsonl``, so mteb's tooling reads it) whose writes go through a temporary
file, fsync and rename. Beside each result it writes ``<Task>.rumteb``: the task definition the result was
computed for (dataset revision, splits, subsets, main score), the model revision and the sha256 of the result
file. `stale_reason` compares a stored result with the run and says why it must not be reused.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mteb
from mteb.models.model_meta import ModelMeta

from rumteb._util import atomic as _atomic
from rumteb.errors import ParameterError, RumtebError

logger = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".rumteb"
_SIDECAR_FORMAT = 1
_SAFE_COMPONENT = re.compile(r"^[^/\\\x00]+$")


class ResultWriteError(RumtebError, OSError):
    """A result file could not be written (folder missing or not writable, disk full).

    Made as ``ResultWriteError(errno, message)``; ``str()`` is the message alone (it names the folder already).
    """

    def __str__(self) -> str:
        return self.strerror or super().__str__()


def task_definition(task: Any) -> dict[str, Any]:
    """What decides a task's scores besides the model: its dataset, revision, splits, subsets and main score."""
    meta = task.metadata
    dataset = meta.dataset
    return {
        "task": meta.name,
        "type": meta.type,
        "dataset": dataset["path"],
        "dataset_revision": dataset["revision"],
        "dataset_name": dataset.get("name"),
        "eval_splits": sorted(task.eval_splits),
        "hf_subsets": sorted(task.hf_subsets),
        "main_score": meta.main_score,
    }


def _check_component(value: object, what: str) -> str:
    text = str(value)
    if text in ("", ".", "..") or not _SAFE_COMPONENT.match(text) or os.path.isabs(text):
        raise ParameterError(
            f"The {what} {text!r} cannot name a folder of the results: it must be a single path component "
            "(no '/', '\\', '..' or absolute path)."
        )
    return text


def check_output_folder(folder: Path, what: str = "output folder") -> None:
    """Fail early, creating nothing, when ``folder`` cannot be created or written: the first of it and its
    parents that exists must be a writable folder. ``what`` names it in the message (``"prediction folder"``).

    Raises:
        ResultWriteError: A path through a regular file, or a folder without write permission.
    """
    folder = Path(folder).expanduser()
    probe = folder.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise ResultWriteError(
            errno.ENOTDIR,
            f"Cannot create the {what} {str(folder)!r}: {str(probe)!r} is a file, not a folder. Pick another "
            f"{what}",
        )
    if not os.access(probe, os.W_OK):
        raise ResultWriteError(
            errno.EACCES,
            f"Cannot write in the {what} {str(folder)!r}: {str(probe)!r} is not writable. Pick another {what}",
        )


class SafeResultCache(mteb.ResultCache):
    """An ``mteb.ResultCache`` that never leaves a partial file and never writes outside its folder."""

    def get_task_result_path(
        self,
        task_name: str,
        model_name: str | Any,
        model_revision: str | None = None,
        remote: bool = False,
        experiment_name: str | None = None,
    ) -> Path:
        """mteb's path, after checking that the model name, revision and task name stay inside the folder.

        Raises:
            ParameterError: A name that would leave ``<folder>/results`` (``..``, an absolute path, a separator).
        """
        _check_component(task_name, "task name")
        if isinstance(model_name, ModelMeta):
            _check_component(model_name.model_name_as_path(), "model name")
            if model_name.revision is not None:
                _check_component(model_name.revision, "model revision")
            if model_name.experiment_name:
                _check_component(model_name.experiment_name, "experiment name")
        else:
            _check_component(str(model_name).replace("/", "__"), "model name")
            if model_revision is not None:
                _check_component(model_revision, "model revision")
        path = super().get_task_result_path(task_name, model_name, model_revision, remote, experiment_name)
        root = (self.remote_results_path if remote else self.cache_path / "results").resolve()
        if not path.resolve().is_relative_to(root):
            # after the checks above only a change in mteb's layout gets here: a bug, not the user's input
            raise ValueError(f"The result path {str(path)!r} leaves the results folder {str(root)!r}.")
        return path

    def save_to_cache(
        self,
        task_result: mteb.TaskResult,
        model_name: str | Any,
        model_revision: str | None = None,
        *,
        encode_kwargs: Any = None,
    ) -> None:
        """mteb's ``save_to_cache`` with every file written atomically, plus the ``<Task>.rumteb`` record.

        Raises:
            ResultWriteError: The folder cannot be written; files written before are left as they were.
        """
        path = self.get_task_result_path(task_result.task_name, model_name, model_revision)
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            digest = _write_task_result(task_result, path)
            if isinstance(model_name, ModelMeta):
                meta_json = json.dumps(model_name.to_dict(), default=str, indent=4)
                _atomic.write_text(folder / "model_meta.json", meta_json)
            self._write_run_settings(folder, task_result, encode_kwargs)
            revision = model_name.revision if isinstance(model_name, ModelMeta) else model_revision
            self._write_sidecar(path, task_result, digest, revision)
        except OSError as err:
            raise ResultWriteError(
                err.errno or errno.EIO,
                f"Cannot write the result of {task_result.task_name} into the folder {str(folder)!r}: "
                f"{err.strerror or err}. Results written before are intact; free space or pick another "
                "output folder and run again",
            ) from err

    def _write_run_settings(self, folder: Path, task_result: mteb.TaskResult, encode_kwargs: Any) -> None:
        # mteb's own merge, on a copy that then replaces the file; the lock keeps concurrent runs' entries
        from mteb.cache.result_cache import _get_package_versions
        from mteb.results.task_result import _write_and_merge_keyed_json

        entries = [
            {
                "task": task_result.task_name,
                "splits": [split],
                "version": _get_package_versions(),
                "encode_kwargs": json.loads(json.dumps(encode_kwargs, default=str)) if encode_kwargs else {},
                "subsets": sorted({entry.get("hf_subset", "default") for entry in scores}),
                **({"rumteb": self.run_settings_extra()} if self.run_settings_extra is not None else {}),
            }
            for split, scores in task_result.scores.items()
        ]
        if not entries:
            return
        target = folder / "run_settings.jsonl"

        def merge(temp: Path) -> None:
            if target.exists():
                temp.write_bytes(target.read_bytes())
            _write_and_merge_keyed_json(temp, entries)

        with _atomic.locked(folder / ".run_settings.lock"):
            _atomic.write_with(target, merge)

    def _write_sidecar(self, path: Path, result: mteb.TaskResult, digest: str, revision: str | None) -> None:
        record = {
            "format": _SIDECAR_FORMAT,
            "result_sha256": digest,
            "model_revision": revision,
            "definition": self._definitions.get(result.task_name),
        }
        _atomic.write_text(path.with_suffix(SIDECAR_SUFFIX), json.dumps(record, indent=2, sort_keys=True))

    _definitions: dict[str, dict[str, Any]]
    #: Called as each task is saved; its dict goes into the task's run-settings entries under "rumteb" (model
    #: size, device, precision, encode throughput: see `rumteb.evaluation.speed`).
    run_settings_extra: Callable[[], dict[str, Any]] | None = None

    def __init__(self, cache_path: Path | str) -> None:
        try:
            super().__init__(cache_path)
        except OSError as err:
            raise ResultWriteError(
                err.errno or errno.EIO,
                f"Cannot create the output folder {str(cache_path)!r}: {err.strerror or err}. Pick another "
                "output folder",
            ) from err
        self._definitions = {}

    def expect(self, task: Any) -> None:
        """Record the definition of ``task`` for the records written beside its results."""
        self._definitions[task.metadata.name] = task_definition(task)

    def stale_reason(self, task: Any, meta: Any) -> str | None:
        """Why the stored result of ``task`` for the model ``meta`` must not be reused, or None (none stored, or
        it matches the run). A result file without a matching ``.rumteb`` record (written by mteb itself, or
        before that record existed) is checked on what the file holds: dataset revision, splits and subsets."""
        path = self.get_task_result_path(task.metadata.name, meta)
        if not path.is_file():
            return None
        try:
            stored = mteb.TaskResult.from_disk(path)
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            return f"the stored file {path} cannot be read ({type(err).__name__}: {str(err)[:200]})"
        wanted = task_definition(task)
        problems = []
        if meta.revision is None and path.parent.name != "no_revision_available":
            problems.append(f"it was computed for model revision {path.parent.name}, this run's is unknown")
        record = _read_sidecar(path)
        if record is not None:
            if record.get("model_revision") != meta.revision:
                problems.append(
                    f"model revision {record.get('model_revision')} != {meta.revision} (this run)"
                )
            old = record.get("definition") or {}
            for key, value in wanted.items():
                if key in old and old[key] != value:
                    problems.append(f"{key} {old[key]!r} != {value!r} (this run)")
        if stored.dataset_revision != wanted["dataset_revision"]:
            problems.append(
                f"dataset revision {stored.dataset_revision} != {wanted['dataset_revision']} (this run)"
            )
        extra_splits = sorted(set(stored.scores) - set(wanted["eval_splits"]))
        if extra_splits:
            problems.append(f"it holds splits {extra_splits} that this run does not evaluate")
        subsets = {s.get("hf_subset") for scores in stored.scores.values() for s in scores}
        extra_subsets = sorted(str(s) for s in subsets - set(wanted["hf_subsets"]))
        if extra_subsets:
            problems.append(f"it holds subsets {extra_subsets} that this run does not evaluate")
        return "; ".join(dict.fromkeys(problems)) or None


def _write_task_result(task_result: mteb.TaskResult, path: Path) -> str:
    """mteb's own serialisation (``TaskResult.to_disk``), written atomically; returns the file's sha256."""
    digest = hashlib.sha256()

    def fill(temp: Path) -> None:
        task_result.to_disk(temp)
        digest.update(temp.read_bytes())  # of these bytes, even if another run replaces the file right after

    _atomic.write_with(path, fill)
    return digest.hexdigest()


def _read_sidecar(result_path: Path) -> dict[str, Any] | None:
    """The ``.rumteb`` record of a result file, or None when missing, unreadable or not about this file's bytes."""
    sidecar = result_path.with_suffix(SIDECAR_SUFFIX)
    if not sidecar.is_file():
        logger.info(
            "%s has no rumteb record: checking its dataset revision, splits and subsets only", result_path
        )
        return None
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
    except (ValueError, OSError) as err:
        logger.warning("Ignoring the unreadable rumteb record %s: %s", sidecar, err)
        return None
    digest = hashlib.sha256(result_path.read_bytes()).hexdigest()
    if not isinstance(record, dict) or record.get("result_sha256") != digest:
        logger.info("%s does not describe the current %s; ignoring it", sidecar, result_path.name)
        return None
    return record
