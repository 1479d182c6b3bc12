"""rumteb: ruMTEB, the Russian text-embedding benchmark (arXiv 2408.12503), as a plugin for mteb.

Example:
    >>> import rumteb
    >>> len(rumteb.get_benchmark().tasks)
    23
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rumteb._registration import register
from rumteb.errors import RumtebError

if TYPE_CHECKING:
    import mteb

__version__ = "0.1.0"
__all__ = ["RumtebError", "__version__", "get_benchmark", "get_task", "get_tasks", "register"]


def get_task(name: str, data_dir: str | Path | None = None) -> mteb.AbsTask:
    """A fresh instance of one ruMTEB task, by mteb's task name.

    Args:
        name: The task name, e.g. ``"TERRa"`` (case-sensitive, as in mteb and the leaderboard).
        data_dir: An offline mirror made by ``rumteb data pull``; defaults to ``$RUMTEB_DATA_DIR``, else the Hub.

    Raises:
        LookupError: Unknown task name (the message suggests the closest ones).

    Example:
        >>> rumteb.get_task("TERRa").metadata.main_score
        'max_ap'
    """
    from rumteb.benchmark import make_task

    return make_task(name, data_dir)


def get_tasks(
    names: Iterable[str] | None = None,
    *,
    benchmark: str = "ruMTEB",
    data_dir: str | Path | None = None,
) -> list[mteb.AbsTask]:
    """Fresh instances of several tasks: the named ones, or else all tasks of ``benchmark``.

    Tasks of ``benchmark`` are evaluated on the benchmark's splits (RuSTSBenchmarkSTS: test only).

    Example:
        >>> [t.metadata.name for t in rumteb.get_tasks(["TERRa", "STS22"])]
        ['TERRa', 'STS22']
    """
    from rumteb.benchmark import select_tasks

    return select_tasks(names, benchmark=benchmark, data_dir=data_dir)


def get_benchmark(name: str = "ruMTEB", *, data_dir: str | Path | None = None) -> mteb.Benchmark:
    """ruMTEB as an `mteb.Benchmark` with fresh task instances.

    Args:
        name: ``"ruMTEB"`` (alias ``"ruMTEB(v1)"``: the paper's 23 tasks) or ``"ruMTEB(v1.1)"``.
        data_dir: An offline mirror made by ``rumteb data pull``; defaults to ``$RUMTEB_DATA_DIR``, else the Hub.

    Raises:
        LookupError: Unknown benchmark name.

    Example:
        >>> bench = rumteb.get_benchmark("ruMTEB(v1.1)")
        >>> bench.name, len(bench.tasks)
        ('ruMTEB(v1.1)', 23)
    """
    from rumteb.benchmark import build_benchmark

    return build_benchmark(name, data_dir)
