"""Fuzzing of the training config loader (`rumteb.recipe.training.load_config` / `config_from_dict`): whatever
the file or mapping holds (truncated YAML, wrong types, huge numbers, unicode, odd paths), it returns a config or
raises rumteb's errors: ValueError (and its subclasses) or LookupError (unknown keys, with suggestions). Anything
else is a crash. The manifest and result-file readers are fuzzed in tests/data/test_data.py and tests/reporting/test_results.py.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

training = pytest.importorskip("rumteb.recipe.training")

OURS = (ValueError, LookupError)
VALID: dict[str, Any] = {
    "base_model": "ai-forever/ruRoberta-large",
    "output_dir": "out/model",
    "datasets": [{"name": "pairs", "path": "pairs.jsonl", "anchor": "query", "positive": "document"}],
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["../../etc/passwd", "/abs/path", "", "кошка", "\x00", "~", "C:\\x", "é" * 300]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


def _fields() -> list[str]:
    import dataclasses

    return [f.name for f in dataclasses.fields(training.TrainConfig)]


def _dataset_fields() -> list[str]:
    import dataclasses

    return [f.name for f in dataclasses.fields(training.DatasetConfig)]


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid config with some keys replaced by arbitrary values, some dropped, some added."""
    data: dict[str, Any] = {**VALID, "datasets": [dict(VALID["datasets"][0])]}
    for key in draw(st.lists(st.sampled_from(_fields()), max_size=4)):
        data[key] = draw(values)
    if draw(st.booleans()) and isinstance(data.get("datasets"), list) and data["datasets"]:
        first = data["datasets"][0]
        if isinstance(first, dict):
            for key in draw(st.lists(st.sampled_from(_dataset_fields()), max_size=3)):
                first[key] = draw(values)
    for key in draw(st.lists(st.sampled_from(list(data)), max_size=1)):
        del data[key]
    if draw(st.booleans()):
        data[draw(st.text(max_size=8))] = draw(values)
    return data


def _accepts_or_raises_ours(call: Any) -> None:
    with contextlib.suppress(OURS):  # anything else (TypeError, YAMLError, ...) fails the test
        call()


@settings(max_examples=300, deadline=None)
@given(configs())
def test_config_from_dict_returns_or_raises_rumteb_errors(data: dict[str, Any]) -> None:
    _accepts_or_raises_ours(lambda: training.config_from_dict(data))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(configs(), st.integers(min_value=0, max_value=400))
def test_load_config_of_mangled_files_returns_or_raises_rumteb_errors(
    tmp_path: Path, data: dict[str, Any], cut: int
) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    path = tmp_path / "config.yaml"
    path.write_text(text[: max(1, len(text) - cut)], encoding="utf-8")  # truncated files too
    _accepts_or_raises_ours(lambda: training.load_config(path))


@pytest.mark.parametrize(
    "text",
    [
        'base_model: "unterminated',  # truncated YAML
        "datasets: [",
        "base_model: m\n  output_dir: o",  # bad indentation
        "\tbase_model: m",  # tab indentation
        "? [1, 2]\n: 3",  # a list as a key
        "base_model: !!python/object:os.system x",  # a Python tag safe_load refuses
    ],
)
def test_load_config_of_invalid_yaml_raises_a_value_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OURS):
        training.load_config(path)


@pytest.mark.parametrize(
    ("change", "note"),
    [
        ({"datasets": [{**VALID["datasets"][0], "negatives": 5}]}, "tuple(5)"),
        ({"datasets": [{**VALID["datasets"][0], "where": [1, 2]}]}, "dict([1, 2])"),
        ({"datasets": [{**VALID["datasets"][0], "negatives": None}]}, "tuple(None)"),
        ({"datasets": [{**VALID["datasets"][0], "where": [None]}]}, "dict([None])"),
    ],
)
def test_config_from_dict_rejects_what_fuzzing_found(change: dict[str, Any], note: str) -> None:
    with pytest.raises(OURS):
        training.config_from_dict({**VALID, **change})


def test_load_config_of_non_utf8_and_non_mapping_files(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    for content in (b"\xff\xfe\x00b", b"- a\n- b\n", b"", b"42"):
        path.write_bytes(content)
        with pytest.raises(OURS):
            training.load_config(path)
    with pytest.raises(OURS):
        training.load_config(path, ["no-equals-sign"])
