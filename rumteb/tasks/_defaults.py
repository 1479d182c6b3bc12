"""The few metadata fields every ruMTEB task shares, and the mixin that gives tasks offline data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mteb.abstasks.task_metadata import TaskMetadata

logger = logging.getLogger(__name__)

#: The Russian subset of the multilingual datasets (MASSIVE, STS22, MIRACL): ruMTEB scores only this one.
RU_SUBSET = {"ru": ["rus-Cyrl"]}


def ru_metadata(**fields: Any) -> TaskMetadata:
    """TaskMetadata with ruMTEB's shared defaults: text only, Russian, test split, no dialects."""
    shared: dict[str, Any] = {
        "modalities": ["text"],
        "eval_splits": ["test"],
        "eval_langs": ["rus-Cyrl"],
        "dialect": [],
        "bibtex_citation": "",
    }
    shared.update(fields)
    return TaskMetadata(**shared)


class RuMTEBTask:
    """Mixin for rumteb's task classes: loads a task's pinned dataset from an offline mirror when one is set.

    The mirror is ``data_dir`` (constructor) or else the environment variable ``RUMTEB_DATA_DIR``, read when the
    data is loaded. Without either, the dataset comes from the Hugging Face Hub exactly as mteb loads it.
    """

    metadata: TaskMetadata

    def __init__(self, seed: int = 42, *, data_dir: str | Path | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)  # type: ignore[call-arg]
        self.data_dir = Path(data_dir) if data_dir is not None else None

    def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
        if getattr(self, "data_loaded", False):
            return
        from rumteb.data import local_dataset_dir, mirror_datasets_cache, resolve_data_dir

        root = resolve_data_dir(self.data_dir)
        if root is None:
            super().load_data(num_proc=num_proc, **kwargs)  # type: ignore[misc]
            return
        local = local_dataset_dir(self.metadata.dataset, root, task_name=self.metadata.name)
        logger.info("Loading %s from the offline mirror %s", self.metadata.name, local)
        # mteb's loaders read path and revision from the metadata: point the path at the mirror for the load only.
        own = self.__dict__.get("metadata")
        published = self.metadata
        self.metadata = published.model_copy(update={"dataset": {**published.dataset, "path": str(local)}})
        from rumteb.data.diagnosis import reading

        try:
            # Any failure to read the mirror ends in one MirrorReadError naming the file (cause chained for -v).
            with mirror_datasets_cache(local), reading(self, local, root):
                super().load_data(num_proc=num_proc, **kwargs)  # type: ignore[misc]
        finally:
            if own is None:
                self.__dict__.pop("metadata", None)
            else:
                self.metadata = own
