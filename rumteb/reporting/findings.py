"""What ``rumteb check`` reports: one `Problem` per finding, and the ``rumteb run`` command that fixes most."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One finding: ``level`` is ``"error"`` (the folder is not ready) or ``"warning"`` (it is, but look).

    Attributes:
        level: ``"error"`` or ``"warning"``.
        where: The file or folder concerned.
        message: What is wrong, naming the bad value.
        fix: What to do about it.
    """

    level: str
    where: Path
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.level.upper()} {self.where}: {self.message} Fix: {self.fix}"


def rerun_command(model: str, tasks: Sequence[str]) -> str:
    """The ``rumteb run`` command line that (re)computes ``tasks`` for ``model``.

    Example:
        >>> rerun_command("org/model", ["TERRa", "STS22"])
        'rumteb run -m org/model -t TERRa STS22'
    """
    return f"rumteb run -m {model} -t {' '.join(tasks)}"
