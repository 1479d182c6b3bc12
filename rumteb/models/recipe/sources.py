"""Reading a training source of the recipe: a local JSONL/JSON/parquet file, filtered (``where``), shuffled with the
config's seed, cut to ``max_rows``, with its text columns renamed to the roles the loss reads (``anchor``,
``positive``, ``negative_1``...). Training and the contamination report read a source the same way, so the report
counts exactly the texts a run would train on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rumteb._util.lookup import unknown_name_error
from rumteb.models.recipe.config import DatasetConfig


def load_source(spec: DatasetConfig, seed: int) -> Any:
    """The rows of one training source as a `datasets.Dataset` with the columns anchor, positive, negative_i.

    Raises:
        ValueError: Not a .jsonl, .json or .parquet file.
        LookupError: A column of the config (role or ``where``) is not in the file (with the closest names).
    """
    import datasets

    suffix = Path(spec.path).suffix.lower()
    builder = {".jsonl": "json", ".json": "json", ".parquet": "parquet"}.get(suffix)
    if builder is None:
        raise ValueError(
            f"The 'datasets.path' parameter of the training config must be a .jsonl, .json or .parquet file. "
            f"Got {spec.path!r} instead."
        )
    data = datasets.load_dataset(builder, data_files=spec.path, split="train")
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
