"""Checking a mirror folder against its manifest without reading it twice: sizes and the set of files on every
call, the sha256 of a file only when its (size, mtime, ctime, inode) changed since it last matched.

The state of the last successful verification lives in a file of ``datasets``' cache folder
(``rumteb-mirrors/verified/<hash of the folder's path>.json``, see `_StateFile`), never in the mirror, which may be
read-only and shared. A file changed within `RACY_SECONDS` of its verification is hashed again next time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from rumteb.data.errors import ManifestError, cannot_read
from rumteb.data.manifest import MANIFEST, Manifest, _data_files, _sha256

# "rumteb.data", not __name__: the name users see on the console (README) and that callers set the level of
logger = logging.getLogger("rumteb.data")

STATE_FORMAT = 1
#: A file changed less than this before its verification may share its timestamp with a later change (coarse file
#: system clocks): it is hashed again next time, as git treats "racily clean" index entries.
RACY_SECONDS = 1.0


# --- manifest: sizes always, sha256 of the files that changed since their last verification ----------------------


def check_against_manifest(folder: Path, manifest: Manifest, task: str, root: Path) -> list[str]:
    """Refuse a mirror folder whose files differ from its manifest; returns the files hashed this time.

    Sizes and the set of files are checked on every call. A file is sha256-hashed only when its (size, mtime,
    ctime, inode) differs from the state recorded the last time it matched, so an unchanged mirror is not read
    twice. The state lives in ``datasets``' cache folder (``rumteb-mirrors/verified/``), never in the mirror, which
    may be read-only and shared.

    Raises:
        ManifestError: A file is missing, has another size or sha256 than recorded, or is not in the manifest.
    """
    for rel, entry in sorted(manifest.files.items()):
        path = folder / rel
        if not path.is_file():
            raise ManifestError(cannot_read(task, rel, folder, f"listed in {MANIFEST} but missing", root))
        size = path.stat().st_size
        if size != entry.size:
            raise ManifestError(
                cannot_read(
                    task, rel, folder, f"it has {size} bytes; its manifest records {entry.size}", root
                )
            )
    extra = sorted(set(_data_files(folder)) - set(manifest.files))
    if extra:
        raise ManifestError(
            cannot_read(task, extra, folder, f"not in {MANIFEST}: datasets could load it as data", root)
        )
    state = _StateFile(folder)
    known = state.read()
    hashed, verified = [], {}
    for rel, entry in sorted(manifest.files.items()):
        stamp = _stamp(folder / rel, entry.sha256)
        if _still_verified(known.get(rel), stamp):
            continue
        hashed.append(rel)
        if _sha256(folder / rel) != entry.sha256:
            raise ManifestError(
                cannot_read(
                    task,
                    rel,
                    folder,
                    f"its sha256 differs from {MANIFEST}: the file changed after the pull",
                    root,
                )
            )
        verified[rel] = {**stamp, "verified_ns": time.time_ns()}
    if verified:
        state.record(verified)
    logger.debug(
        "%s: hashed %d of %d files (the rest unchanged since verified)", folder, len(hashed), len(known)
    )
    return hashed


def _stamp(path: Path, sha256: str) -> dict[str, Any]:
    info = path.stat()
    return {
        "size": info.st_size,
        "mtime_ns": info.st_mtime_ns,
        "ctime_ns": info.st_ctime_ns,
        "ino": info.st_ino,
        "sha256": sha256,
    }


def _still_verified(entry: Any, stamp: dict[str, Any]) -> bool:
    if not isinstance(entry, dict) or any(entry.get(k) != v for k, v in stamp.items()):
        return False
    verified = entry.get("verified_ns")
    changed = max(stamp["mtime_ns"], stamp["ctime_ns"])
    return isinstance(verified, int) and changed < verified - int(RACY_SECONDS * 1e9)


class _StateFile:
    """``<datasets cache>/rumteb-mirrors/verified/<hash of the folder's path>.json``: per file, the stat of its last
    successful verification and the sha256 it matched."""

    def __init__(self, folder: Path) -> None:
        import datasets

        self.folder = folder.resolve()
        key = hashlib.sha256(str(self.folder).encode()).hexdigest()[:20]
        self.path = Path(datasets.config.HF_DATASETS_CACHE) / "rumteb-mirrors" / "verified" / f"{key}.json"

    def read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            logger.warning(
                "Ignoring the unreadable verification record %s (%s): hashing every file.", self.path, err
            )
            return {}
        ok = (
            isinstance(raw, dict)
            and raw.get("format") == STATE_FORMAT
            and raw.get("folder") == str(self.folder)
        )
        files = raw.get("files") if ok else None
        return files if isinstance(files, dict) else {}

    def record(self, entries: dict[str, Any]) -> None:
        from rumteb._util import atomic as _atomic

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _atomic.locked(self.path.with_suffix(".lock")):
                files = {**self.read(), **entries}
                payload = {"format": STATE_FORMAT, "folder": str(self.folder), "files": files}
                _atomic.write_text(self.path, json.dumps(payload, indent=1, sort_keys=True) + "\n")
        except OSError as err:
            logger.warning(
                "Cannot record the verified files of %s in %s (%s): they will be hashed again next time.",
                self.folder,
                self.path,
                err,
            )
