"""What a trained model records about its training data (`rumteb.models.training_record`): the sources of its
config, the ruMTEB tasks whose train split one of them is, and the tasks the training's contamination report found
text overlap with. ``rumteb run`` turns it into the ``training_datasets`` of ``model_meta.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rumteb.models.training_record import TrainingRecord, tasks_of_sources

if TYPE_CHECKING:
    from rumteb.recipe.config import TrainConfig

_SOURCE_KEYS = ("name", "hub", "revision", "config", "split", "path")


def training_record(config: TrainConfig, contamination: Path | None = None) -> TrainingRecord:
    """The record of a training run of ``config``; ``contamination`` is its ``contamination.json`` (written when
    ``exclude_contaminated`` is set), None when no report was made.

    A task counts as overlapping when the report found any exact or near-duplicate text of a source in its
    evaluation splits, even if ``exclude_contaminated`` then dropped those examples: near duplicates below the
    threshold may remain, so the record stays on the safe side.

    Example:
        >>> training_record(load_config("my.yaml"), Path("out/contamination.json")).overlap
        {'TERRa': {'pairs': {'exact': 3, 'near': 0}}}
    """
    from rumteb.tasks import TASKS_BY_NAME

    sources = tuple(_source(d) for d in config.datasets)
    datasets = {name: str(task.metadata.dataset["path"]) for name, task in TASKS_BY_NAME.items()}
    overlap: dict[str, dict[str, dict[str, int | None]]] = {}
    if contamination is not None:
        report: dict[str, Any] = json.loads(contamination.read_text(encoding="utf-8"))["report"]
        for item in report["overlaps"]:
            if item["exact"] or item["near"]:
                counts = {"exact": item["exact"], "near": item["near"]}
                overlap.setdefault(item["task"], {})[item["source"]] = counts
    return TrainingRecord(
        sources=sources,
        trained_on=tasks_of_sources(sources, datasets),
        overlap=overlap,
        overlap_checked=contamination is not None,
    )


def _source(dataset: Any) -> dict[str, Any]:
    """Where one source came from (``split`` only for a Hub source: a local file has none)."""
    keys = _SOURCE_KEYS if dataset.hub else tuple(k for k in _SOURCE_KEYS if k != "split")
    return {key: getattr(dataset, key) for key in keys if getattr(dataset, key) is not None}
