"""The ``datasets:`` entries of a training config: a local file or a Hub dataset at a pinned commit (or
``pin-at-pull``: the commit ``rumteb data pull --config`` downloads, recorded in its lock file), and the roles of its
columns (`DatasetConfig`), checked when read (`dataset_from_dict`).

A role column may be a nested field, ``translation.en`` or ``answers.text``, and ``[i]`` takes one item of a list
(``answers.text[0]``); `rumteb.recipe.columns` checks such paths against a dataset's features. A Hub source whose
columns are not known yet says ``columns: unknown`` instead of the roles: the pull prints its features.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rumteb._util.lookup import unknown_name_error
from rumteb.errors import ConfigError
from rumteb.recipe._schema import _check, _is_int, _reject_unknown

ROLES = ("anchor", "positive", "negatives")
#: the ``revision`` of a Hub source whose commit the pull chooses (the newest) and records in the lock file
PIN_AT_PULL = "pin-at-pull"
#: the ``columns`` value of a Hub source whose column roles are still to be written
COLUMNS_UNKNOWN = "unknown"


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
        revision: the Hub dataset's commit (40 hex digits), or ``pin-at-pull``: the pull resolves it to the commit
            it downloads and writes it to ``DIR/<config name>.lock.yaml``, which training reads. Required with
            ``hub``.
        config: the Hub dataset's configuration (subset), if it has several.
        split: the Hub dataset's split (default ``train``).
        negatives: columns of hard negatives (may be empty).
        prefixes: prefix per role (``anchor``, ``positive``, ``negatives``); missing roles get none.
        where: keep only rows whose columns equal these values (e.g. ``{label: 1}``).
        max_rows: keep at most this many rows (after ``where``, shuffled with the config's seed).
        columns: ``unknown`` for a Hub source whose roles are not written yet (``anchor`` and ``positive`` are then
            empty): ``rumteb data pull`` prints its features, training refuses it.
        data_files: the Hub dataset's files to pull and read (glob patterns in the repository, e.g.
            ``habr.jsonl.zst``), for repositories that ``datasets`` cannot read whole (a loading script).
    """

    name: str
    anchor: str = ""
    positive: str = ""
    path: str | None = None
    hub: str | None = None
    revision: str | None = None
    config: str | None = None
    split: str = "train"
    negatives: tuple[str, ...] = ()
    prefixes: Mapping[str, str] = field(default_factory=dict)
    where: Mapping[str, Any] = field(default_factory=dict)
    max_rows: int | None = None
    columns: str | None = None
    data_files: tuple[str, ...] = ()

    @property
    def pinned(self) -> bool:
        """Whether the source names its data exactly: a local file, or a Hub dataset at a 40-hex commit."""
        return self.hub is None or (self.revision is not None and bool(_COMMIT.match(self.revision)))

    @property
    def columns_unknown(self) -> bool:
        return self.columns == COLUMNS_UNKNOWN

    def role_columns(self) -> list[str]:
        """The columns read for the roles, in the loss's order: anchor, positive, negatives."""
        return [self.anchor, self.positive, *self.negatives]


def dataset_from_dict(data: Any) -> DatasetConfig:
    if not isinstance(data, Mapping):
        raise ConfigError.invalid("the training config", "datasets", "a list of mappings", data)
    _reject_unknown(data, DatasetConfig, "a dataset")
    fields = dict(data)
    _check(isinstance(fields.get("name"), str), "datasets.name", "a string", fields.get("name"))
    _check_source(fields)
    if fields.get("columns") is not None:
        _check_unknown_columns(fields)
        fields.update(negatives=(), prefixes={}, where={}, data_files=tuple(fields.get("data_files") or ()))
        return DatasetConfig(**fields)
    for required in ("anchor", "positive"):
        _check(
            isinstance(fields.get(required), str) and _is_path(fields[required]),
            f"datasets.{required}",
            "a column name (a nested field as a.b, an item of a list as a[0])",
            fields.get(required),
        )
    negatives = fields.get("negatives", [])
    if isinstance(negatives, str):
        negatives = [negatives]
    _check(
        isinstance(negatives, list | tuple) and all(isinstance(n, str) and _is_path(n) for n in negatives),
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
    _check(
        isinstance(where, Mapping) and all(isinstance(k, str) and _is_path(k) for k in where),
        "datasets.where",
        "a mapping column -> value",
        where,
    )
    fields["where"] = dict(where)
    fields["data_files"] = tuple(fields.get("data_files") or ())
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
_PATH = re.compile(r"^[^.\[\]\s][^.\[\]]*(\[\d+\])?(\.[^.\[\]\s][^.\[\]]*(\[\d+\])?)*$")


def _is_path(value: str) -> bool:
    return bool(_PATH.match(value))


def _check_unknown_columns(fields: Mapping[str, Any]) -> None:
    """``columns: unknown``: a Hub source, and no roles yet (they are what the pull's feature list is for)."""
    name = fields.get("name")
    _check(
        fields.get("columns") == COLUMNS_UNKNOWN,
        "datasets.columns",
        f"{COLUMNS_UNKNOWN!r} (or unset, with anchor and positive written)",
        fields.get("columns"),
    )
    _check(
        fields.get("hub") is not None, "datasets.columns", "set on Hub sources only", fields.get("columns")
    )
    written = [k for k in ("anchor", "positive", "negatives", "where", "prefixes") if fields.get(k)]
    if written:
        raise ConfigError(
            f"The training source {name!r} says 'columns: unknown' but also sets {', '.join(written)}: remove "
            "'columns: unknown' once the roles are written."
        )


def _check_source(fields: Mapping[str, Any]) -> None:
    """Exactly one of ``path`` (a local file) and ``hub`` (with a 40-hex ``revision`` or ``pin-at-pull``)."""
    name = fields.get("name")
    if (fields.get("path") is None) == (fields.get("hub") is None):
        raise ConfigError(
            f"The training source {name!r} must set exactly one of 'path' (a local file) and 'hub' (a Hub dataset "
            f"org/name with a 'revision'). Got path={fields.get('path')!r}, hub={fields.get('hub')!r} instead."
        )
    if fields.get("path") is not None:
        _check(isinstance(fields["path"], str), "datasets.path", "a file path", fields["path"])
        for key in ("revision", "config", "columns", "data_files"):
            _check(
                fields.get(key) in (None, [], ()),
                f"datasets.{key}",
                "unset for a local 'path' source",
                fields.get(key),
            )
        return
    hub, revision = fields["hub"], fields.get("revision")
    _check(
        isinstance(hub, str) and bool(_HUB_ID.match(hub)), "datasets.hub", "a Hub dataset id org/name", hub
    )
    _check(
        isinstance(revision, str) and (bool(_COMMIT.match(revision)) or revision == PIN_AT_PULL),
        "datasets.revision",
        f"the 40-hex commit of {hub}, or {PIN_AT_PULL!r} (the pull records the commit it downloads; a branch or "
        "tag can move)",
        revision,
    )
    for key in ("config", "split"):
        value = fields.get(key)
        _check(value is None or isinstance(value, str), f"datasets.{key}", "a string", value)
    files = fields.get("data_files") or []
    _check(
        isinstance(files, list | tuple)
        and all(isinstance(f, str) and f and not f.startswith("/") for f in files),
        "datasets.data_files",
        "a list of file patterns inside the repository",
        files,
    )
