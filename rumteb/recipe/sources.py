"""Reading a training source of the recipe: a local JSONL/JSON/parquet file or a Hub dataset read offline from a
mirror (``rumteb data pull --config``, the task mirrors' layout and manifest), filtered (``where``), shuffled with the
config's seed, cut to ``max_rows``, with its text columns renamed to the roles the loss reads (``anchor``,
``positive``, ``negative_1``...). Training and the contamination report read a source the same way, so the report
counts exactly the texts a run would train on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rumteb._util.lookup import unknown_name_error
from rumteb.errors import ConfigError
from rumteb.recipe.config import DatasetConfig


def load_source(spec: DatasetConfig, seed: int, data_dir: str | os.PathLike[str] | None = None) -> Any:
    """The rows of one training source as a `datasets.Dataset` with the columns anchor, positive, negative_i.

    Args:
        spec: The source.
        seed: The shuffle seed (the config's).
        data_dir: The mirror of the config's Hub sources (default ``$RUMTEB_DATA_DIR``).

    Raises:
        ValueError: Not a .jsonl, .json or .parquet file.
        LookupError: A column of the config (role or ``where``) is not in the file (with the closest names).
        rumteb.data.MissingDataError: A Hub source that is not in the mirror (the message names the pull command).
    """
    import datasets

    if spec.hub is not None:
        return _rows(_hub_rows(spec, data_dir), spec, seed)
    assert spec.path is not None
    suffix = Path(spec.path).suffix.lower()
    builder = {".jsonl": "json", ".json": "json", ".parquet": "parquet"}.get(suffix)
    if builder is None:
        expected = "a .jsonl, .json or .parquet file"
        raise ConfigError.invalid("the training config", "datasets.path", expected, spec.path)
    return _rows(datasets.load_dataset(builder, data_files=spec.path, split="train"), spec, seed)


def _hub_rows(spec: DatasetConfig, data_dir: str | os.PathLike[str] | None) -> Any:
    import datasets

    from rumteb.data import (
        ENV_VAR,
        MissingDataError,
        dataset_folder,
        local_dataset_dir,
        mirror_datasets_cache,
        resolve_data_dir,
    )

    assert spec.hub is not None and spec.revision is not None
    pull = "rumteb data pull --config CONFIG.yaml --to DIR on a machine with Hub access"
    try:
        root = resolve_data_dir(data_dir)
    except MissingDataError as err:  # the folder does not exist: the pull that fills it is --config's
        raise MissingDataError(
            f"The training source {spec.name!r} ({spec.hub}@{spec.revision[:10]}) is not available offline: the "
            f"mirror folder {str(data_dir or os.environ.get(ENV_VAR))!r} does not exist. Run "
            f"'{pull.replace('DIR', str(data_dir or os.environ.get(ENV_VAR)))}'."
        ) from err
    if root is None:
        raise MissingDataError(
            f"The training source {spec.name!r} ({spec.hub}@{spec.revision[:10]}) is not available offline: no "
            f"mirror folder is set. Run '{pull}', then set data_dir: DIR in the config or {ENV_VAR}=DIR."
        )
    if not dataset_folder(root, spec.hub).is_dir():
        raise MissingDataError(
            f"The training source {spec.name!r} ({spec.hub}@{spec.revision[:10]}) is not available offline: "
            f"{str(dataset_folder(root, spec.hub))!r} does not exist. Run '{pull.replace('DIR', str(root))}'."
        )
    # the manifest's revision must be the pinned one (a mirror of another revision is refused)
    folder = local_dataset_dir({"path": spec.hub, "revision": spec.revision}, root, task_name=spec.name)
    with mirror_datasets_cache(folder):
        return datasets.load_dataset(str(folder), name=spec.config, split=spec.split)


def _rows(data: Any, spec: DatasetConfig, seed: int) -> Any:
    columns = [spec.anchor, spec.positive, *spec.negatives]
    missing = [c for c in [*columns, *spec.where] if c not in data.column_names]
    if missing:
        raise unknown_name_error(
            f"column of dataset {spec.name!r}",
            missing[0],
            data.column_names,
            fix=f"Columns: {data.column_names}.",
        )
    if spec.where:
        data = data.filter(lambda row: all(row[k] == v for k, v in spec.where.items()))
    data = data.filter(lambda row: all(isinstance(row[c], str) and row[c].strip() for c in columns))
    data = data.shuffle(seed=seed)
    if spec.max_rows is not None:
        data = data.select(range(min(spec.max_rows, len(data))))
    # Losses read columns by order: anchor, positive, then negatives.
    names = ["anchor", "positive", *[f"negative_{i + 1}" for i in range(len(spec.negatives))]]
    data = data.select_columns(columns)
    return data.rename_columns({old: new for old, new in zip(columns, names, strict=True) if old != new})


def source_texts(data: Any) -> list[str]:
    """Every text of a source read by `load_source` (all its role columns), read from Arrow in one pass per column."""
    return [text for column in data.column_names for text in data.data.column(column).to_pylist()]
