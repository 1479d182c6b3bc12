"""``training_datasets`` for a run's ``model_meta.json``: declared by the user (``rumteb run --training-datasets``)
and read from a model folder saved by ``rumteb train`` (`rumteb.models.training_record`).

mteb computes the leaderboard's Zero-shot from this field (``100 - % of the benchmark's tasks in it``). Where the
names came from goes into each task's ``run_settings.jsonl`` entry, under ``rumteb.training_datasets``, so
``rumteb table --columns board`` can say whether a figure is declared or measured.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from rumteb.errors import ParameterError


def parse_training_datasets(values: Sequence[str]) -> list[str]:
    """Task names from ``values``: each a task name or a text file of names (whitespace-separated, ``#`` starts a
    comment). Every name must be an mteb task (any language, superseded ones included), as in mteb's
    ``ModelMeta.training_datasets``.

    Raises:
        UnknownNameError: An unknown task name (with the closest names).
        ParameterError: A file that cannot be read.

    Example:
        >>> parse_training_datasets(["XNLI", "MIRACLRetrieval"])
        ['MIRACLRetrieval', 'XNLI']
    """
    from rumteb._util.lookup import unknown_name_error

    names: list[str] = []
    for value in values:
        path = Path(value).expanduser()
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise ParameterError.invalid(
                    "parse_training_datasets", "values", "task names or readable text files", value
                ) from err
            names += [word for line in text.splitlines() for word in line.split("#", 1)[0].split()]
        else:
            names.append(value)
    for name in names:
        if name not in (known := _task_names()):
            raise unknown_name_error(
                "task", name, sorted(known), "training_datasets take mteb's task names (any language)."
            )
    return sorted(set(names))


class _BetaTaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "is currently in beta" not in record.getMessage()


@cache
def _task_names() -> frozenset[str]:
    import mteb

    from rumteb.tasks import TASKS_BY_NAME

    # mteb warns (warnings and logging) once per beta task it lists; listing names is not using them
    quiet = _BetaTaskFilter()
    logger = logging.getLogger("mteb.abstasks.abstask")
    logger.addFilter(quiet)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            every = mteb.get_tasks(exclude_superseded=False, exclude_private=False, exclude_beta=False)
    finally:
        logger.removeFilter(quiet)
    return frozenset({t.metadata.name for t in every} | set(TASKS_BY_NAME))


def apply_training_datasets(
    model: Any, declared: Sequence[str] = (), folder: Path | None = None
) -> dict[str, Any] | None:
    """Set ``model.mteb_model_meta.training_datasets`` to ``declared`` plus what the model folder's training
    record names; returns where they came from (for the run settings), None when neither says anything.

    Args:
        model: An mteb encoder (with ``mteb_model_meta``).
        declared: Names from `parse_training_datasets`.
        folder: The local model folder, if the model is one.

    Raises:
        rumteb.models.training_record.TrainingRecordError: The folder's record cannot be read.

    Example:
        >>> apply_training_datasets(model, ["XNLI"])
        {'declared': ['XNLI'], 'trained_on': [], 'overlap': [], 'measured': False}
    """
    from rumteb.models.training_record import read_training_record

    record = read_training_record(folder) if folder is not None and folder.is_dir() else None
    if not declared and record is None:
        return None
    names = set(declared) | (record.training_datasets if record else set())
    model.mteb_model_meta = model.mteb_model_meta.model_copy(update={"training_datasets": names})
    return {
        "declared": sorted(declared),
        "trained_on": sorted(record.trained_on) if record else [],
        "overlap": sorted(record.overlap) if record else [],
        "measured": bool(record and record.overlap_checked),
    }
