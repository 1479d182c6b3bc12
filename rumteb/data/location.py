"""Where a task's offline data is: the mirror (``--data-dir`` or ``$RUMTEB_DATA_DIR``), the dataset folder
``<mirror>/<org>/<name>`` inside it, checked against its manifest before a load, and the ``datasets`` cache of its own
that each mirror folder is loaded through (`mirror_datasets_cache`, keyed by `mirror_fingerprint`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rumteb.data.errors import DataError, ManifestError, MissingDataError, RevisionMismatchError, cannot_read
from rumteb.data.manifest import MANIFEST, _data_files, _parse_manifest
from rumteb.data.stamps import check_against_manifest
from rumteb.errors import ParameterError

# "rumteb.data", not __name__: the name users see on the console (README) and that callers set the level of
logger = logging.getLogger("rumteb.data")

ENV_VAR = "RUMTEB_DATA_DIR"
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_CACHE_LOCK = threading.RLock()


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
        raise ParameterError(
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
            they last matched (see `rumteb.data.stamps.check_against_manifest`).
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
    check_against_manifest(folder, manifest, label, root)
    return folder


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
