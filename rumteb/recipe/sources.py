"""Reading a training source of the recipe: a local JSONL/JSON/parquet file or a Hub dataset read offline from a
mirror (``rumteb data pull --config``, the task mirrors' layout and manifest), filtered (``where``), shuffled with the
config's seed, cut to ``max_rows``, with its text columns (nested fields too, `rumteb.recipe.columns`) renamed to
the roles the loss reads (``anchor``, ``positive``, ``negative_1``...). Training and the contamination report read a
source the same way, so the report counts exactly the texts a run would train on.

A Hub source must be pinned first (a 40-hex ``revision``, or ``pin-at-pull`` resolved by `rumteb.recipe.lock`) and
have its roles written (not ``columns: unknown``): `check_ready` refuses the others in one line each.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rumteb._util.lookup import unknown_name_error
from rumteb.data import DataError
from rumteb.errors import ConfigError
from rumteb.recipe.columns import ColumnMismatchError, column_problems, extract, feature_columns
from rumteb.recipe.config import DatasetConfig
from rumteb.recipe.lock import UnpinnedSourceError
from rumteb.recipe.source_config import PIN_AT_PULL

_PULL = "rumteb data pull --config CONFIG --to DIR"
#: the ``datasets`` builder of a data file, by its name's end (compressed JSON lines included)
_BUILDERS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "json", ".json": "json"}


class SourceReadError(DataError):
    """A pulled Hub source that ``datasets`` cannot read (a loading script, several configs and none chosen...)."""


def check_ready(spec: DatasetConfig) -> None:
    """Refuse a source training cannot read yet: an unpinned Hub source, or one with ``columns: unknown``.

    Raises:
        UnpinnedSourceError: ``revision: pin-at-pull`` not replaced by a lock (`rumteb.recipe.lock.apply_lock`).
        ConfigError: ``columns: unknown``.
    """
    if spec.hub is not None and spec.revision == PIN_AT_PULL:
        raise UnpinnedSourceError(
            f"The training source {spec.name!r} ({spec.hub}) is not pinned: 'revision: {PIN_AT_PULL}' needs the "
            f"lock file of a pull. Run '{_PULL}', then train with data_dir: DIR (or {spec.hub}'s 40-hex commit "
            "as revision:)."
        )
    if spec.columns_unknown:
        raise ConfigError(
            f"The training source {spec.name!r} ({spec.hub}) says 'columns: unknown': write its anchor and "
            f"positive columns (the features '{_PULL}' printed) and remove 'columns: unknown', or remove the "
            "source."
        )


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
        UnpinnedSourceError: A Hub source still at ``pin-at-pull`` (see `check_ready`).
        ColumnMismatchError: A role or ``where`` column the data does not have, or that is not text.
    """
    import datasets

    check_ready(spec)
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
        return _open(folder, spec, streaming=False)


def _open(folder: Path, spec: DatasetConfig, *, streaming: bool) -> Any:
    """The source's split from its mirror folder: the whole dataset, or only its ``data_files``."""
    import datasets

    try:
        if not spec.data_files:
            return datasets.load_dataset(str(folder), name=spec.config, split=spec.split, streaming=streaming)
        files = sorted({str(p) for pattern in spec.data_files for p in folder.glob(pattern) if p.is_file()})
        if not files:
            raise SourceReadError(
                f"The training source {spec.name!r}: no file of {str(folder)!r} matches data_files "
                f"{list(spec.data_files)}. Check the patterns against the files the pull wrote there."
            )
        builder = next((b for end, b in _BUILDERS.items() if end in Path(files[0]).name), None)
        if builder is None:
            raise SourceReadError(
                f"The training source {spec.name!r}: cannot tell the format of {files[0]!r} (expected a .parquet, "
                ".csv, .json or .jsonl file, optionally compressed)."
            )
        return datasets.load_dataset(
            builder, data_files={spec.split: files}, split=spec.split, streaming=streaming
        )
    except (RuntimeError, ValueError, FileNotFoundError) as err:  # datasets' refusals, as one line
        if isinstance(err, DataError):
            raise
        text = " ".join(str(err).split())[:400]
        raise SourceReadError(
            f"The training source {spec.name!r} ({spec.hub}@{str(spec.revision)[:10]}) cannot be read by datasets: "
            f"{text}. Set config: (one of the dataset's configs) or data_files: (its data files in {str(folder)!r}) "
            "in the source."
        ) from err


def source_features(folder: Path, spec: DatasetConfig) -> Any:
    """The `datasets.Features` of a pulled source, read from the first rows only (streaming).

    Raises:
        SourceReadError: datasets cannot read the folder as this source (the message says what to set).
    """
    data = _open(folder, spec, streaming=True)
    if data.features is None:
        data = data._resolve_features()  # JSON without a card: inferred from the first rows
    return data.features


def _rows(data: Any, spec: DatasetConfig, seed: int) -> Any:
    columns = spec.role_columns()
    plain = all(c in data.column_names for c in [*columns, *spec.where])
    if not plain:
        found = feature_columns(data.features)
        flat = [c for c in [*columns, *spec.where] if "." not in c and "[" not in c]
        missing = [c for c in flat if c not in data.column_names]
        if missing:
            raise unknown_name_error(
                f"column of dataset {spec.name!r}",
                missing[0],
                data.column_names,
                fix=f"Columns: {data.column_names}.",
            )
        problems = column_problems(spec, found)
        if problems:
            raise ColumnMismatchError(
                f"The training source {spec.name!r}: {'; '.join(problems.values())}. Its columns: {', '.join(found)}."
            )
    if spec.where:
        data = data.filter(lambda row: all(extract(row, k) == v for k, v in spec.where.items()))
    # Losses read columns by order: anchor, positive, then negatives.
    names = ["anchor", "positive", *[f"negative_{i + 1}" for i in range(len(spec.negatives))]]
    if plain:
        data = data.select_columns(columns)
        data = data.rename_columns({old: new for old, new in zip(columns, names, strict=True) if old != new})
    else:
        data = data.map(
            lambda row: {new: extract(row, old) for old, new in zip(columns, names, strict=True)},
            remove_columns=data.column_names,
        )
    data = data.filter(lambda row: all(isinstance(row[c], str) and row[c].strip() for c in names))
    data = data.shuffle(seed=seed)
    if spec.max_rows is not None:
        data = data.select(range(min(spec.max_rows, len(data))))
    return data


def source_texts(data: Any) -> list[str]:
    """Every text of a source read by `load_source` (all its role columns), read from Arrow in one pass per column."""
    return [text for column in data.column_names for text in data.data.column(column).to_pylist()]
