"""Offline mirrors of ruMTEB's pinned Hub datasets: resolve, pull, verify.

A mirror is a folder ``DATA_DIR`` with one sub-folder per dataset, ``DATA_DIR/<org>/<name>/``, holding the files of
the Hub dataset repository at the pinned revision exactly as ``huggingface_hub.snapshot_download(repo_id=...,
repo_type="dataset", revision=R, local_dir=DATA_DIR/<org>/<name>)`` writes them, plus ``.rumteb-manifest.json``:
the revision, and the size and sha256 of every file.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ENV_VAR = "RUMTEB_DATA_DIR"
MANIFEST = ".rumteb-manifest.json"
MANIFEST_FORMAT = 1
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SKIPPED_DIRS = {".cache", ".git", ".huggingface"}

#: Downloads one dataset repository: (repo_id, revision, local_dir, allow_patterns or None) -> None.
Downloader = Callable[[str, str, Path, "list[str] | None"], None]


class DataError(RuntimeError):
    """A problem with an offline mirror; the message names the path and the fix."""


class MissingDataError(DataError, FileNotFoundError):
    """The mirror, or the dataset folder inside it, does not exist."""


class RevisionMismatchError(DataError):
    """The mirror holds another revision of the dataset than the task pins."""


class MirrorReadError(DataError):
    """A mirror file that cannot be read (truncated, corrupt, missing, not what the manifest records), a card whose
    YAML does not parse, or a loaded dataset without a split the task needs. The message is one line: the task,
    the file, the folder, the cause, and the commands that fix it (see `cannot_read`)."""


class ManifestError(MirrorReadError):
    """A manifest that cannot be read, or a file that differs from its manifest."""


def cannot_read(
    task: str, files: str | Sequence[str], folder: Path, cause: object, root: Path | None = None
) -> str:
    """The one-line message of a mirror that cannot be read, ending with the fix.

    Args:
        task: The task (or dataset id) being loaded.
        files: The file(s) to blame, relative to ``folder``; more than three are cut to ``a, b, c and N more``.
        folder: The dataset folder ``DATA_DIR/<org>/<name>``.
        cause: What went wrong (an exception or text); collapsed to one line and cut to 300 characters.
        root: The mirror ``DATA_DIR`` (default: two levels above ``folder``).

    Example:
        >>> cannot_read("TERRa", "README.md", Path("/m/mteb/TERRa"), "bad YAML")  # doctest: +SKIP
        'TERRa: cannot read README.md in /m/mteb/TERRa (bad YAML). Run "rumteb data verify /m"; re-pull with ...'
    """
    names = [files] if isinstance(files, str) else list(files)
    named = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    text = " ".join(str(cause).replace(f"{folder}{os.sep}", "").split()) or type(cause).__name__
    if isinstance(cause, BaseException) and type(cause).__name__ not in text:
        text = f"{type(cause).__name__}: {text}"
    if len(text) > 300:
        text = text[:297] + "..."
    base = root if root is not None else folder.parent.parent
    which = f"--tasks {task}" if "/" not in task else "--benchmark ruMTEB"
    return (
        f'{task}: cannot read {named} in {folder} ({text}). Run "rumteb data verify {base}"; re-pull with '
        f'"rumteb data pull {which} --to {base}".'
    )


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path | None:
    """The mirror to use: ``data_dir`` if given, else ``$RUMTEB_DATA_DIR`` if set and non-empty, else None (Hub).

    Raises:
        MissingDataError: The folder does not exist.
    """
    if data_dir is None:
        data_dir = os.environ.get(ENV_VAR) or None
        source = f"${ENV_VAR}"
    else:
        source = "data_dir"
    if data_dir is None:
        return None
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise MissingDataError(
            f"The offline data folder {str(root)!r} (from {source}) does not exist. Create it with "
            f"'rumteb data pull --benchmark ruMTEB --to {root}' on a machine with Hub access, or fix the path."
        )
    return root


def dataset_folder(root: str | os.PathLike[str], repo_id: str) -> Path:
    """``root/<org>/<name>`` for a Hub dataset id, refusing ids that could leave ``root``.

    Raises:
        ValueError: ``repo_id`` is not of the form ``org/name`` (e.g. ``../x``, an absolute path).
    """
    if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id) or ".." in repo_id:
        raise ValueError(
            f"The 'repo_id' parameter of dataset_folder must be a Hub dataset id 'org/name' (letters, digits, "
            f"'_', '.', '-'). Got {repo_id!r} instead."
        )
    base = Path(root)
    folder = base.joinpath(*repo_id.split("/"))
    if not folder.resolve().is_relative_to(base.resolve()):
        raise DataError(f"The dataset folder {str(folder)!r} resolves outside the data folder {str(base)!r}.")
    return folder


def local_dataset_dir(dataset: Mapping[str, Any], root: Path, task_name: str | None = None) -> Path:
    """The mirror folder of a task's pinned dataset, checked against its manifest.

    Args:
        dataset: The task's ``metadata.dataset`` (``path`` and ``revision``).
        root: The mirror (see `resolve_data_dir`).
        task_name: Used in messages only.

    Raises:
        MissingDataError: The dataset folder is missing (the message names the ``rumteb data pull`` command).
        RevisionMismatchError: The manifest records another revision.
        ManifestError: The manifest is unreadable, or a file is missing, not listed, or has another size or
            sha256 than recorded. Files are hashed only when their (size, mtime, ctime, inode) changed since
            they last matched (see `rumteb._mirror_checks.check_against_manifest`).
    """
    repo_id, revision = dataset["path"], dataset["revision"]
    folder = dataset_folder(root, repo_id)
    which = f"--tasks {task_name}" if task_name else "--benchmark ruMTEB"
    if not folder.is_dir():
        raise MissingDataError(
            f"The dataset {repo_id} is not in the offline data folder: {str(folder)!r} does not exist. "
            f"Fill it with 'rumteb data pull {which} --to {root}' on a machine with Hub access."
        )
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        logger.warning(
            "%s has no %s (made by hand?): its revision is unverified; the task pins %s.",
            folder,
            MANIFEST,
            revision,
        )
        return folder
    label = task_name or repo_id
    try:
        manifest = _parse_manifest(manifest_path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError, KeyError) as err:
        raise ManifestError(cannot_read(label, MANIFEST, folder, err, root)) from err
    if manifest.revision != revision:
        raise RevisionMismatchError(
            f"{str(folder)!r} holds revision {manifest.revision} of {repo_id}, but the task pins {revision}. "
            f"Pull the pinned one: 'rumteb data pull {which} --to {root}'."
        )
    from rumteb import _mirror_checks

    _mirror_checks.check_against_manifest(folder, manifest, label, root)
    return folder


_REPULL = "Run 'rumteb data verify' on the data folder, then pull the dataset again."
_CACHE_LOCK = threading.RLock()


def mirror_fingerprint(folder: Path) -> str:
    """A key that changes whenever the mirror folder's location or any of its files (name, size, mtime) changes."""
    digest = hashlib.sha256(str(folder.resolve()).encode())
    for rel in _data_files(folder) + ([MANIFEST] if (folder / MANIFEST).exists() else []):
        info = (folder / rel).stat()
        digest.update(f"\0{rel}\0{info.st_size}\0{info.st_mtime_ns}".encode())
    return digest.hexdigest()[:20]


@contextmanager
def mirror_datasets_cache(folder: Path) -> Iterator[Path]:
    """Load a mirror through a ``datasets`` cache of its own, keyed by `mirror_fingerprint`.

    ``datasets`` (5.x) keys the cache of a local folder by its name and card, not by its files' contents: a mirror
    pulled again at a new revision, edited, or a second mirror folder of the same name, would be served the first
    one's prepared data. mteb's loaders call ``load_dataset`` without a ``cache_dir``, so the default cache folder is
    switched for the duration of the load (under a lock) and restored after it.
    """
    import datasets

    with _CACHE_LOCK:
        previous = datasets.config.HF_DATASETS_CACHE
        cache = Path(previous) / "rumteb-mirrors" / mirror_fingerprint(folder)
        datasets.config.HF_DATASETS_CACHE = cache
        try:
            yield cache
        finally:
            datasets.config.HF_DATASETS_CACHE = previous


@dataclass(frozen=True)
class FileEntry:
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What ``rumteb data pull`` recorded about one dataset folder."""

    repo_id: str
    revision: str
    files: dict[str, FileEntry]
    tasks: tuple[str, ...] = ()
    allow_patterns: tuple[str, ...] | None = None
    created: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "repo_id": self.repo_id,
            "repo_type": "dataset",
            "revision": self.revision,
            "tasks": list(self.tasks),
            "allow_patterns": None if self.allow_patterns is None else list(self.allow_patterns),
            "created": self.created,
            "files": {rel: {"size": e.size, "sha256": e.sha256} for rel, e in sorted(self.files.items())},
        }


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Parse a manifest file, validating every field.

    Raises:
        ManifestError: The file is not valid JSON or does not have the manifest's fields and types.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ManifestError(f"Cannot read the manifest {str(path)!r}: {err}. {_REPULL}") from err
    try:
        return _manifest_from_json(raw)
    except (TypeError, ValueError, KeyError) as err:
        raise ManifestError(f"The manifest {str(path)!r} is malformed: {err}. {_REPULL}") from err


def _parse_manifest(path: Path) -> Manifest:
    """`read_manifest` without the message: the caller words the error (OSError, ValueError, TypeError...)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    try:
        return _manifest_from_json(raw)
    except KeyError as err:
        raise ValueError(f"malformed: no field {err}") from err


def _manifest_from_json(raw: Any) -> Manifest:
    if not isinstance(raw, dict):
        raise TypeError(f"expected a JSON object, got {type(raw).__name__}")
    if raw.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"unsupported format {raw.get('format')!r} (this rumteb reads {MANIFEST_FORMAT})")
    repo_id, revision, files = raw["repo_id"], raw["revision"], raw["files"]
    if not isinstance(repo_id, str) or not isinstance(revision, str) or not isinstance(files, dict):
        raise TypeError("'repo_id' and 'revision' must be strings and 'files' an object")
    entries = {}
    for rel, entry in files.items():
        _check_relative(rel)
        if not isinstance(entry, dict):
            raise TypeError(f"entry of {rel!r} must be an object")
        size, digest = entry["size"], entry["sha256"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"size of {rel!r} must be a non-negative int, got {size!r}")
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ValueError(f"sha256 of {rel!r} must be 64 hex digits, got {digest!r}")
        entries[rel] = FileEntry(size, digest)
    tasks = raw.get("tasks", [])
    patterns = raw.get("allow_patterns")
    if not isinstance(tasks, list) or not all(isinstance(t, str) for t in tasks):
        raise TypeError("'tasks' must be a list of strings")
    if patterns is not None and (
        not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns)
    ):
        raise TypeError("'allow_patterns' must be null or a list of strings")
    return Manifest(
        repo_id=repo_id,
        revision=revision,
        files=entries,
        tasks=tuple(tasks),
        allow_patterns=None if patterns is None else tuple(patterns),
        created=str(raw.get("created", "")),
    )


def _check_relative(rel: Any) -> None:
    """Refuse manifest paths that could point outside the dataset folder."""
    if not isinstance(rel, str) or not rel or rel.startswith(("/", "\\")) or "\\" in rel or "\x00" in rel:
        raise ValueError(f"file path {rel!r} must be a relative POSIX path")
    if any(part in ("", ".", "..") for part in rel.split("/")) or re.match(r"^[A-Za-z]:", rel):
        raise ValueError(f"file path {rel!r} must stay inside the dataset folder")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _data_files(folder: Path) -> list[str]:
    """Relative POSIX paths of the dataset's files: everything but the manifest and tool caches."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
        for name in filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(folder).as_posix()
            if rel != MANIFEST:
                found.append(rel)
    return sorted(found)


def write_manifest(
    folder: Path,
    repo_id: str,
    revision: str,
    tasks: Sequence[str] = (),
    allow_patterns: Sequence[str] | None = None,
) -> Manifest:
    """Hash every file of ``folder`` and write its manifest atomically (temporary file, fsync, rename)."""
    files = {}
    for rel in _data_files(folder):
        path = folder / rel
        if path.is_symlink():
            raise DataError(f"{str(path)!r} is a symbolic link; a mirror holds plain files only.")
        files[rel] = FileEntry(path.stat().st_size, _sha256(path))
    manifest = Manifest(
        repo_id=repo_id,
        revision=revision,
        files=files,
        tasks=tuple(tasks),
        allow_patterns=None if allow_patterns is None else tuple(allow_patterns),
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )
    atomic_write_text(folder / MANIFEST, json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n")
    return manifest


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` so that readers see the old file or the whole new one, never a part."""
    from rumteb import _atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic.write_text(path, text)


@dataclass
class VerifyReport:
    """What `verify` found; ``ok`` when every dataset folder matches its manifest."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(root: str | os.PathLike[str]) -> VerifyReport:
    """Recompute every file's sha256 under a mirror and compare with the manifests.

    Every dataset folder is ``root/<org>/<name>``. A missing, changed or unexpected (not in the manifest) file is a
    problem; a folder without a manifest is reported as unverified.

    Raises:
        MissingDataError: ``root`` does not exist.
    """
    base = Path(root)
    if not base.is_dir():
        raise MissingDataError(f"The data folder {str(base)!r} does not exist.")
    report = VerifyReport()
    for org in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for folder in sorted(p for p in org.iterdir() if p.is_dir() and not p.name.startswith(".")):
            repo_id = f"{org.name}/{folder.name}"
            manifest_path = folder / MANIFEST
            if not manifest_path.exists():
                report.unverified.append(repo_id)
                continue
            try:
                manifest = read_manifest(manifest_path)
            except ManifestError as err:
                report.problems.append(str(err))
                continue
            report.checked.append(repo_id)
            if manifest.repo_id != repo_id:
                report.problems.append(f"{manifest_path}: records {manifest.repo_id}, but lies in {repo_id}")
            report.problems.extend(_folder_problems(folder, manifest))
    return report


def _folder_problems(folder: Path, manifest: Manifest) -> list[str]:
    problems = []
    present = set(_data_files(folder))
    for rel, entry in sorted(manifest.files.items()):
        path = folder / rel
        if rel not in present:
            problems.append(f"missing: {path}")
        elif path.is_symlink():
            problems.append(f"symbolic link (a mirror holds plain files only): {path}")
        elif path.stat().st_size != entry.size or _sha256(path) != entry.sha256:
            problems.append(f"changed: {path} (sha256 differs from the manifest)")
    for rel in sorted(present - set(manifest.files)):
        problems.append(f"unexpected (not in the manifest): {folder / rel}")
    return problems


def _hub_download(repo_id: str, revision: str, local_dir: Path, allow_patterns: list[str] | None) -> None:
    from huggingface_hub import snapshot_download

    snapshot_download(
        repo_id=repo_id,
        repo_type="dataset",
        revision=revision,
        local_dir=local_dir,
        allow_patterns=allow_patterns,
    )


def _readme_configs(readme: Path) -> list[dict[str, Any]]:
    """The ``configs:`` list of a dataset card's YAML header (empty when there is none)."""
    import yaml

    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, flags=re.DOTALL)
    if not match:
        return []
    header = yaml.safe_load(match.group(1)) or {}
    configs = header.get("configs", []) if isinstance(header, dict) else []
    return [c for c in configs if isinstance(c, dict) and "config_name" in c]


def _config_patterns(configs: list[dict[str, Any]], subsets: Iterable[str]) -> list[str] | None:
    """allow_patterns for the data files of the configs of the given subsets (``ru``, ``ru-corpus``...)."""
    wanted = set(subsets)
    patterns = ["README.md"]
    for config in configs:
        name = str(config["config_name"])
        if name.split("-")[0] not in wanted:
            continue
        data_files = config.get("data_files", [])
        if isinstance(data_files, str | dict):
            data_files = [data_files]
        for item in data_files:
            paths = item.get("path", []) if isinstance(item, dict) else item
            patterns.extend([paths] if isinstance(paths, str) else list(paths))
    return patterns if len(patterns) > 1 else None


@dataclass(frozen=True)
class _Pull:
    repo_id: str
    revision: str
    tasks: tuple[str, ...]
    subsets: tuple[str, ...] | None  # the subsets to keep, when the repo splits languages into configs


def _plan(tasks: Sequence[Any]) -> list[_Pull]:
    grouped: dict[tuple[str, str], list[Any]] = {}
    for task in tasks:
        key = (task.metadata.dataset["path"], task.metadata.dataset["revision"])
        grouped.setdefault(key, []).append(task)
    plan = []
    for (repo_id, revision), group in grouped.items():
        subsets: set[str] | None = set()
        for task in group:
            if (
                task.metadata.is_multilingual
                and not getattr(task, "fast_loading", False)
                and subsets is not None
            ):
                subsets.update(task.hf_subsets)
            else:
                subsets = None  # the whole repository is needed
        names = tuple(t.metadata.name for t in group)
        plan.append(_Pull(repo_id, revision, names, tuple(sorted(subsets)) if subsets else None))
    return plan


def pull(
    tasks: Sequence[Any],
    to: str | os.PathLike[str],
    *,
    download: Downloader | None = None,
) -> list[Manifest]:
    """Download each task's pinned dataset into the mirror ``to`` and write its manifest.

    Datasets shared by several tasks are downloaded once. For repositories that keep each language in its own
    configs (MIRACL), only the Russian configs' files are fetched.

    Args:
        tasks: Task instances (e.g. ``rumteb.get_tasks()``).
        to: The mirror folder; created when missing.
        download: The function that fetches one repository (default: ``huggingface_hub.snapshot_download``).

    Example:
        >>> rumteb.data.pull(rumteb.get_tasks(["TERRa"]), "ru_data")  # doctest: +SKIP
    """
    fetch = download or _hub_download
    root = Path(to)
    root.mkdir(parents=True, exist_ok=True)
    manifests = []
    for item in _plan(tasks):
        folder = dataset_folder(root, item.repo_id)
        # Download next to the target and swap it in whole: a crash or a new revision never leaves a mix of files.
        staging = folder.with_name(f".{folder.name}.partial")
        if staging.exists():
            shutil.rmtree(staging)
        patterns = None
        if item.subsets is not None:
            fetch(item.repo_id, item.revision, staging, ["README.md"])
            patterns = _config_patterns(_readme_configs(staging / "README.md"), item.subsets)
        logger.info("Pulling %s@%s into %s", item.repo_id, item.revision, folder)
        fetch(item.repo_id, item.revision, staging, patterns)
        manifests.append(write_manifest(staging, item.repo_id, item.revision, item.tasks, patterns))
        _swap_in(staging, folder)
    return manifests


def _swap_in(staging: Path, folder: Path) -> None:
    old = folder.with_name(f".{folder.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    if old.exists():
        shutil.rmtree(old)
