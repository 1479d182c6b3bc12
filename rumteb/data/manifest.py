"""The manifest of a dataset folder (``.rumteb-manifest.json``): the revision, and the size and sha256 of every
file, as ``rumteb data pull`` recorded them.

`Manifest` and `FileEntry` are its contents; `read_manifest` parses and validates one (paths that could leave the
folder are refused), `write_manifest` hashes a folder and writes its manifest atomically. `_data_files` (the files a
manifest covers: everything but the manifest and tool caches) and `_sha256` are shared with the modules that check a
folder against its manifest.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rumteb.data.errors import DataError, ManifestError

MANIFEST = ".rumteb-manifest.json"
MANIFEST_FORMAT = 1
_SKIPPED_DIRS = {".cache", ".git", ".huggingface"}
_REPULL = "Run 'rumteb data verify' on the data folder, then pull the dataset again."


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
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    )
    atomic_write_text(folder / MANIFEST, json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n")
    return manifest


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` so that readers see the old file or the whole new one, never a part."""
    from rumteb._util import atomic as _atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic.write_text(path, text)
