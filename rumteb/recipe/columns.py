"""Column paths of a training source checked against a dataset's features, and read from its rows.

A path names a top-level column (``title``), a nested field (``translation.en``; through a list it gives the list of
the items' fields, ``answers.text``) and optionally one item of a list (``answers.text[0]``). `feature_columns` lists
every path a dataset's `datasets.Features` offer with its type; `column_problems` says which of a source's
declared columns (roles and ``where``) the features lack or give as something other than text; `extract` reads a
path from one row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rumteb.errors import ConfigError
from rumteb.recipe.source_config import DatasetConfig

__all__ = ["ColumnMismatchError", "column_problems", "describe", "extract", "feature_columns", "parse_path"]

_SEGMENT = re.compile(r"^(?P<key>.+?)(?:\[(?P<index>\d+)\])?$")
_TEXT = ("string", "large_string")


class ColumnMismatchError(ConfigError):
    """A source's declared columns are not in its data, or not text: the message lists the data's columns and the
    config lines to change."""


def parse_path(path: str) -> list[tuple[str, int | None]]:
    """``answers.text[0]`` -> ``[("answers", None), ("text", 0)]``.

    Example:
        >>> parse_path("translation.en")
        [('translation', None), ('en', None)]
    """
    parts = []
    for segment in path.split("."):
        match = _SEGMENT.match(segment)
        assert match is not None, path  # the config's schema checked the syntax
        index = match.group("index")
        parts.append((match.group("key"), None if index is None else int(index)))
    return parts


def _field(value: Any, key: str) -> Any:
    if isinstance(value, list):  # a list of structs: the list of the items' fields
        return [_field(item, key) for item in value]
    if isinstance(value, Mapping):  # a struct, or datasets' Sequence of a struct (a dict of lists)
        return value.get(key)
    return None


def extract(row: Mapping[str, Any], path: str) -> Any:
    """The value of ``path`` in a row of a `datasets.Dataset` (None where the row lacks it).

    Example:
        >>> extract({"answers": [{"text": "a"}, {"text": "b"}]}, "answers.text[1]")
        'b'
    """
    value: Any = row
    for key, index in parse_path(path):
        value = _field(value, key)
        if index is not None:
            value = value[index] if isinstance(value, list) and index < len(value) else None
    return value


def feature_columns(features: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    """Every path of ``features`` -> (its type, how many lists it sits in), e.g. ``{"answers.text": ("string", 1)}``.

    Example:
        >>> import datasets
        >>> feature_columns(datasets.Features({"t": datasets.Translation(languages=["en", "ru"])}))
        {'t.en': ('string', 0), 't.ru': ('string', 0)}
    """
    found: dict[str, tuple[str, int]] = {}
    _walk(features, "", 0, found)
    return found


def _walk(feature: Any, prefix: str, lists: int, found: dict[str, tuple[str, int]]) -> None:
    import datasets

    def join(key: str) -> str:
        return f"{prefix}.{key}" if prefix else key

    if isinstance(feature, Mapping):
        for key, sub in feature.items():
            _walk(sub, join(key), lists, found)
    elif isinstance(feature, datasets.Translation):
        for language in feature.languages:
            found[join(language)] = ("string", lists)
    elif isinstance(feature, datasets.TranslationVariableLanguages):
        found[join("language")] = ("string", lists + 1)
        found[join("translation")] = ("string", lists + 1)
    elif isinstance(feature, datasets.Value):
        found[prefix] = (str(feature.dtype), lists)
    elif isinstance(feature, datasets.ClassLabel):
        found[prefix] = ("class label", lists)
    elif hasattr(feature, "feature"):  # List, LargeList, Sequence
        _walk(feature.feature, prefix, lists + 1, found)
    else:
        found[prefix] = (type(feature).__name__, lists)


def describe(columns: Mapping[str, tuple[str, int]]) -> list[str]:
    """``["title: string", "answers.text: list of string", ...]``, as the pull prints them."""
    return [f"{path}: {'list of ' * lists}{kind}" for path, (kind, lists) in columns.items()]


def column_problems(spec: DatasetConfig, columns: Mapping[str, tuple[str, int]]) -> dict[str, str]:
    """Per config key (``anchor``, ``negatives``, ``where.label``...), what is wrong with its column in ``columns``
    (from `feature_columns`); empty when every role is a text column and every ``where`` column exists."""
    wanted = [
        ("anchor", spec.anchor),
        ("positive", spec.positive),
        *(("negatives", n) for n in spec.negatives),
    ]
    wanted += [(f"where.{column}", column) for column in spec.where]
    problems: dict[str, str] = {}
    for key, path in wanted:
        parts = parse_path(path)
        base = ".".join(name for name, _ in parts)
        indexed = sum(index is not None for _, index in parts)
        if base not in columns:
            problems[key] = f"{key}: {path} is not a column of the data"
            continue
        kind, lists = columns[base]
        if indexed > lists:
            problems[key] = f"{key}: {path} takes an item of {base}, which is not a list"
        elif lists > indexed:
            problems[key] = (
                f"{key}: {path} is a list ({'list of ' * lists}{kind}): take one item, e.g. {path}[0]"
            )
        elif not key.startswith("where.") and kind not in _TEXT:
            problems[key] = f"{key}: {path} is {kind}, not text"
    return problems
