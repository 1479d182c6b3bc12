"""Crash-safe file writes: a temporary file in the same folder, fsync, then an atomic rename.

A reader sees the old file or the new one, never a truncated one, whatever kills the writer. Temporary files are
named ``.<name>.<random>.tmp`` so no ``*.json`` glob (mteb's result loader, rumteb's) ever picks one up.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def write_with(path: Path, fill: Callable[[Path], object]) -> None:
    """Have ``fill`` write a temporary file beside ``path``, then fsync it and rename it onto ``path``.

    Raises:
        OSError: The folder cannot be written (missing, read-only, disk full); ``path`` is left as it was and the
            temporary file is removed.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    os.close(fd)
    temp = Path(name)
    try:
        fill(temp)
        with temp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename, fsync of the folder).

    Raises:
        OSError: As `write_with`.
    """
    write_with(path, lambda temp: temp.write_bytes(data))


def write_text(path: Path, text: str) -> None:
    """`write_bytes` of UTF-8 text."""
    write_bytes(path, text.encode("utf-8"))


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable. Skipped where folders cannot be opened (Windows) or a filesystem
    refuses fsync on them: the rename itself is atomic either way."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """An exclusive advisory lock (``flock``) on ``lock_path`` for read-modify-write of a shared file, so two
    processes writing into the same folder do not lose each other's entries. No-op where ``fcntl`` is missing."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; atomic renames still keep every file whole
        yield
        return
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
