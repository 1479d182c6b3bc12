"""Before a model loads: check that every task's data can be read, so that a run fails in seconds, not after the
model (used by ``rumteb run`` and by training with ``eval``)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from rumteb.data.errors import MissingDataError
from rumteb.data.hub import cached_revision, check_hub_access
from rumteb.data.location import ENV_VAR, local_dataset_dir, resolve_data_dir

_TRUE = {"1", "ON", "YES", "TRUE"}


def check_data_sources(tasks: Sequence[Any]) -> None:
    """Before the model loads, check that every task's data can be read: its offline mirror folder (with
    ``--data-dir`` or ``$RUMTEB_DATA_DIR``) holds the pinned revision, or, without a mirror, the Hub is reachable
    (``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE`` not set) and gives each dataset at its pinned revision.

    Offline without a mirror is allowed only when huggingface_hub's cache holds the pinned snapshot and no other
    (a warm cache from an online run), and never for retrieval or reranking. Otherwise it is refused rather than
    left to ``datasets``: it would fail only after the model loaded, or fall back to whatever revision its cache
    holds (reranking then silently runs as full retrieval).

    Raises:
        rumteb.data.DataError: A mirror folder missing, of another revision or damaged; or offline without a
            mirror (the message names ``--data-dir``, ``RUMTEB_DATA_DIR`` and ``rumteb data pull``);
            `rumteb.data.hub.HubError` when the Hub is unreachable or refuses a dataset.
    """
    from_hub = []
    data_logger = logging.getLogger("rumteb.data")
    level = data_logger.level
    data_logger.setLevel(logging.ERROR)  # its warnings (an unverified mirror) come once, when the task loads
    try:
        for task in tasks:
            root = resolve_data_dir(getattr(task, "data_dir", None))
            if root is None:
                from_hub.append(task.metadata.name)
            else:
                local_dataset_dir(task.metadata.dataset, root, task_name=task.metadata.name)
    finally:
        data_logger.setLevel(level)
    offline = [v for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE") if os.environ.get(v, "").upper() in _TRUE]
    if from_hub and not offline:
        check_hub_access([t.metadata.dataset for t in tasks if t.metadata.name in from_hub], from_hub)
        return
    # Offline, the Hub cache may hold exactly the pinned snapshots (a warm cache from an online run): then
    # datasets reads those. Any other state is refused, not left to datasets' fall-back to the newest cache.
    from_hub = [t.metadata.name for t in tasks if t.metadata.name in from_hub and not _cached(t)]
    if from_hub and offline:
        shown = ", ".join(from_hub[:5]) + (f" and {len(from_hub) - 5} more" if len(from_hub) > 5 else "")
        raise MissingDataError(
            f"{shown} would load from the Hugging Face Hub, but {offline[0]}=1 (offline) and no offline data "
            f"folder is set. Pass --data-dir DIR or set {ENV_VAR}=DIR to a mirror made by 'rumteb data pull "
            "--benchmark ruMTEB --to DIR' on a machine with Hub access, or unset "
            f"{' and '.join(offline)}."
        )


# Offline, datasets lists only the ``default`` config of a Hub-cache dataset: retrieval would lose its corpus and
# reranking its candidate lists, so these task types never run from the Hub cache.
_NEEDS_CONFIG_NAMES = {"Retrieval", "Reranking", "InstructionRetrieval", "InstructionReranking"}


def _cached(task: Any) -> bool:
    dataset = task.metadata.dataset
    if task.metadata.type in _NEEDS_CONFIG_NAMES:
        return False
    return cached_revision(str(dataset["path"]), str(dataset["revision"]))
