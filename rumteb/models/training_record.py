"""What a model was trained on, saved beside it by ``rumteb train`` and read by ``rumteb run`` into the
``training_datasets`` of the run's ``model_meta.json`` (mteb's field; the leaderboard's Zero-shot is computed from it).

The record (``training_datasets.json`` in the model folder) holds the training sources, the ruMTEB tasks whose
train split a source is (``trained_on``) and the tasks the training's contamination report found text overlap with
(``overlap``: exact or near-duplicate texts in the task's evaluation splits). ``overlap_checked`` says whether a
contamination report was made at all: without one, overlap is unknown, not absent.

Example:
    >>> record = read_training_record(Path("out/run1/final"))
    >>> sorted(record.training_datasets), record.overlap_checked
    (['GeoreviewClassification', 'TERRa'], True)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rumteb.errors import RumtebError

#: The record's file name in the saved model folder.
RECORD_FILE = "training_datasets.json"
_FORMAT = 1


class TrainingRecordError(RumtebError, ValueError):
    """A model folder's ``training_datasets.json`` cannot be read."""


@dataclass(frozen=True)
class TrainingRecord:
    """What a saved model was trained on.

    Attributes:
        sources: One mapping per training source: ``name`` and where it came from (``hub``, ``revision``,
            ``config``, ``split`` or ``path``).
        trained_on: mteb task names whose train split is one of the sources.
        overlap: Task name -> per source, the count of its distinct texts found in the task's evaluation splits
            (``{"exact": n, "near": m}``), from the training's contamination report.
        overlap_checked: Whether the training made a contamination report (``exclude_contaminated``).
    """

    sources: tuple[Mapping[str, Any], ...] = ()
    trained_on: tuple[str, ...] = ()
    overlap: Mapping[str, Mapping[str, Mapping[str, int | None]]] = field(default_factory=dict)
    overlap_checked: bool = False

    @property
    def training_datasets(self) -> set[str]:
        """The task names for mteb's ``training_datasets``: trained on, or overlapping in text."""
        return {*self.trained_on, *self.overlap}

    def to_json(self) -> dict[str, Any]:
        """The record as written to `RECORD_FILE`."""
        return {
            "format": _FORMAT,
            "sources": [dict(s) for s in self.sources],
            "trained_on": sorted(self.trained_on),
            "overlap": {
                task: {s: dict(c) for s, c in per.items()} for task, per in sorted(self.overlap.items())
            },
            "overlap_measure": "text overlap (exact after normalisation, or near duplicates) with the evaluation "
            "splits, from the training's contamination report",
            "overlap_checked": self.overlap_checked,
        }


def write_training_record(folder: Path, record: TrainingRecord) -> Path:
    """Write ``record`` into the model folder ``folder``; returns the file.

    Example:
        >>> write_training_record(Path("out/final"), TrainingRecord(trained_on=("TERRa",))).name
        'training_datasets.json'
    """
    path = Path(folder) / RECORD_FILE
    path.write_text(json.dumps(record.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def read_training_record(folder: Path) -> TrainingRecord | None:
    """The record saved in the model folder ``folder``; None when it has none.

    Raises:
        TrainingRecordError: The file is not the JSON `write_training_record` writes.

    Example:
        >>> read_training_record(Path("out/final")).trained_on
        ('TERRa',)
    """
    path = Path(folder) / RECORD_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        trained_on = _names(data["trained_on"])
        overlap = data["overlap"]
        if not isinstance(overlap, dict) or not all(isinstance(v, dict) for v in overlap.values()):
            raise TypeError("'overlap' must map task names to objects")
        sources = data.get("sources", [])
        if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
            raise TypeError("'sources' must be a list of objects")
        return TrainingRecord(
            sources=tuple(sources),
            trained_on=trained_on,
            overlap={str(k): v for k, v in overlap.items()},
            overlap_checked=bool(data.get("overlap_checked", False)),
        )
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise TrainingRecordError(
            f"Cannot read {path}: {err}. It is written by rumteb train; delete it or train again."
        ) from err


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"expected a list of task names, got {value!r}")
    return tuple(value)


def tasks_of_sources(sources: Sequence[Mapping[str, Any]], datasets: Mapping[str, str]) -> tuple[str, ...]:
    """The tasks whose train split a source is: a Hub source on split ``train`` of a task's dataset.

    Args:
        sources: As in `TrainingRecord.sources`.
        datasets: Task name -> its Hub dataset id.

    Example:
        >>> tasks_of_sources([{"hub": "ai-forever/terra-pairclassification", "split": "train"}],
        ...                  {"TERRa": "ai-forever/terra-pairclassification"})
        ('TERRa',)
    """
    used = {s.get("hub") for s in sources if s.get("hub") and s.get("split", "train") == "train"}
    return tuple(sorted(task for task, dataset in datasets.items() if dataset in used))
