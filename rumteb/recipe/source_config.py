"""The ``datasets:`` entries of a training config: a local file or a Hub dataset at a pinned commit, and the roles
of its columns (`DatasetConfig`), checked when read (`dataset_from_dict`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rumteb._util.lookup import unknown_name_error
from rumteb.errors import ConfigError
from rumteb.recipe._schema import _check, _is_int, _reject_unknown

ROLES = ("anchor", "positive", "negatives")


@dataclass(frozen=True)
class DatasetConfig:
    """One training source: a local file, or a Hub dataset at a pinned revision, and the roles of its columns.

    Attributes:
        name: unique name (batches never mix datasets; prefixes are keyed by it).
        anchor: column of the anchors (queries).
        positive: column of the positives.
        path: a local ``.jsonl``/``.json`` or ``.parquet`` file (or give ``hub``).
        hub: a Hub dataset ``org/name``, read offline from the config's ``data_dir`` mirror (``rumteb data pull
            --config CONFIG --to DIR``).
        revision: the Hub dataset's commit (40 hex digits), required with ``hub``.
        config: the Hub dataset's configuration (subset), if it has several.
        split: the Hub dataset's split (default ``train``).
        negatives: columns of hard negatives (may be empty).
        prefixes: prefix per role (``anchor``, ``positive``, ``negatives``); missing roles get none.
        where: keep only rows whose columns equal these values (e.g. ``{label: 1}``).
        max_rows: keep at most this many rows (after ``where``, shuffled with the config's seed).
    """

    name: str
    anchor: str
    positive: str
    path: str | None = None
    hub: str | None = None
    revision: str | None = None
    config: str | None = None
    split: str = "train"
    negatives: tuple[str, ...] = ()
    prefixes: Mapping[str, str] = field(default_factory=dict)
    where: Mapping[str, Any] = field(default_factory=dict)
    max_rows: int | None = None


def dataset_from_dict(data: Any) -> DatasetConfig:
    if not isinstance(data, Mapping):
        raise ConfigError.invalid("the training config", "datasets", "a list of mappings", data)
    _reject_unknown(data, DatasetConfig, "a dataset")
    fields = dict(data)
    for required in ("name", "anchor", "positive"):
        _check(
            isinstance(fields.get(required), str), f"datasets.{required}", "a string", fields.get(required)
        )
    _check_source(fields)
    negatives = fields.get("negatives", [])
    if isinstance(negatives, str):
        negatives = [negatives]
    _check(
        isinstance(negatives, list | tuple) and all(isinstance(n, str) for n in negatives),
        "datasets.negatives",
        "a column name or a list of column names",
        negatives,
    )
    fields["negatives"] = tuple(negatives)
    prefixes = fields.get("prefixes", {}) or {}
    _check(isinstance(prefixes, Mapping), "datasets.prefixes", "a mapping role -> prefix", prefixes)
    for role in prefixes:
        if role not in ROLES:
            raise unknown_name_error("prefix role", role, ROLES, fix=f"Roles: {', '.join(ROLES)}.")
    fields["prefixes"] = dict(prefixes)
    where = fields.get("where", {}) or {}
    _check(isinstance(where, Mapping), "datasets.where", "a mapping column -> value", where)
    fields["where"] = dict(where)
    max_rows = fields.get("max_rows")
    _check(
        max_rows is None or (_is_int(max_rows) and max_rows > 0),
        "datasets.max_rows",
        "a positive integer",
        max_rows,
    )
    return DatasetConfig(**fields)


_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def _check_source(fields: Mapping[str, Any]) -> None:
    """Exactly one of ``path`` (a local file) and ``hub`` (with a pinned ``revision``)."""
    name = fields.get("name")
    if (fields.get("path") is None) == (fields.get("hub") is None):
        raise ConfigError(
            f"The training source {name!r} must set exactly one of 'path' (a local file) and 'hub' (a Hub dataset "
            f"org/name with a 'revision'). Got path={fields.get('path')!r}, hub={fields.get('hub')!r} instead."
        )
    if fields.get("path") is not None:
        _check(isinstance(fields["path"], str), "datasets.path", "a file path", fields["path"])
        for key in ("revision", "config"):
            _check(
                fields.get(key) is None, f"datasets.{key}", "unset for a local 'path' source", fields.get(key)
            )
        return
    hub, revision = fields["hub"], fields.get("revision")
    _check(
        isinstance(hub, str) and bool(_HUB_ID.match(hub)), "datasets.hub", "a Hub dataset id org/name", hub
    )
    _check(
        isinstance(revision, str) and bool(_COMMIT.match(revision)),
        "datasets.revision",
        f"the 40-hex commit of {hub} (a branch or tag can move; pin the commit)",
        revision,
    )
    for key in ("config", "split"):
        value = fields.get(key)
        _check(value is None or isinstance(value, str), f"datasets.{key}", "a string", value)
