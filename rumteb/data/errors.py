"""The errors of the data layer and the one-line message of a mirror that cannot be read.

Every failure to locate, check or read an offline mirror is a `DataError`: `MissingDataError` for a mirror or
dataset folder that does not exist, `RevisionMismatchError` for another revision than the task pins,
`MirrorReadError` (and its `ManifestError`) for files that cannot be used. `cannot_read` words the last kind as one
line naming the task, the file, the folder, the cause and the commands that fix it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from rumteb.errors import RumtebError


class DataError(RumtebError, RuntimeError):
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
