"""The settings objects: every field checked once, on construction, named in the error as the library knows it
(and as the command line shows it); choices are the str enums that argparse offers."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from rumteb.cli import build_parser
from rumteb.cli._options import OPTIONS
from rumteb.errors import ParameterError
from rumteb.models import (
    Encoder,
    EncoderChoice,
    EncoderSettings,
    EndpointEncoder,
    EndpointSettings,
    Engine,
    Pooling,
    Precision,
)
from rumteb.models.loading import POOLING_MODES


def test_encoder_settings_normalise_what_they_are_given() -> None:
    settings = EncoderSettings(
        device="CUDA:0,1", precision="bf16", pooling="cls,mean", cache_dir="~/c", max_memory="1GiB"
    )
    assert settings.device == ("cuda:0", "cuda:1") and settings.devices_named() == ("cuda:0", "cuda:1")
    assert settings.precision is Precision.BF16 and settings.engine is Engine.LOCAL
    assert settings.pooling == (Pooling.CLS, Pooling.MEAN)
    assert settings.cache_dir == Path("~/c").expanduser() and settings.max_memory == 1 << 30
    assert EncoderSettings(device="0").device == "cuda:0"
    # normalised values are valid input: building again (Encoder.from_settings does) changes nothing
    fields = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    assert EncoderSettings(**fields) == settings
    assert settings.given() == {
        "device": ("cuda:0", "cuda:1"),
        "precision": Precision.BF16,
        "pooling": (Pooling.CLS, Pooling.MEAN),
        "cache_dir": settings.cache_dir,
        "max_memory": 1 << 30,
    }
    assert EncoderSettings().given() == {} and EncoderSettings(precision="auto").given() == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.precision = Precision.FP32  # type: ignore[misc]
    assert settings.replace(precision="fp32").precision is Precision.FP32


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("device", "gpu", "must be cpu, cuda, cuda:N"),
        ("device", [], "must be at least one device"),
        ("precision", "fp64", "must be one of auto, fp32, bf16, fp16, int8. Got 'fp64'"),
        ("max_tokens_per_batch", 0, "must be a positive int. Got 0"),
        ("pooling", "sum", "must be one of cls, mean, max"),
        ("normalize", "yes", "must be True, False or None"),
        ("max_length", 1, "must be an int >= 2. Got 1"),
        ("memory_cache_bytes", -1, "must be an int >= 0"),
        ("max_memory", "lots", "must be a size such as 4GiB"),
        ("max_memory", "1MiB", "must be at least 64MiB"),
        ("engine", "spark", "must be one of local, ray. Got 'spark'"),
        ("ray_address", "auto", "must be left out unless the engine is 'ray'"),
        ("trust_remote_code", "yes", "must be True or False"),
        ("allow_pickle", 1, "must be True or False"),
    ],
)
def test_each_encoder_setting_is_checked(field: str, value: Any, expected: str) -> None:
    with pytest.raises(ParameterError, match=f"^The '{field}' parameter of Encoder {expected}") as caught:
        EncoderSettings(**{field: value})
    assert (caught.value.parameter, caught.value.owner) == (field, "Encoder")
    if field in OPTIONS:  # the command line names the option instead
        assert caught.value.for_options(OPTIONS).startswith(f"The {OPTIONS[field]!r} option {expected}")


def test_int8_is_refused_on_a_named_cuda_device() -> None:
    with pytest.raises(ParameterError, match=r"'int8', a CPU precision .* device is 'cuda:1'") as caught:
        EncoderSettings(device=["cpu", "cuda:1"], precision="int8")
    assert caught.value.parameter == "precision"
    assert EncoderSettings(device="cpu", precision="int8").precision is Precision.INT8


def test_endpoint_settings() -> None:
    settings = EndpointSettings(url="http://user:secret@localhost:8000/v1", timeout=5, max_memory="256MiB")
    assert (
        settings.timeout == 5.0 and isinstance(settings.timeout, float) and settings.max_memory == 256 << 20
    )
    assert "secret" not in repr(settings)
    for url in ("ftp://localhost", "localhost:8000", "http://", "http://h:port", "", None):
        with pytest.raises(
            ParameterError, match="'url' parameter of EndpointEncoder must be an http"
        ) as caught:
            EndpointSettings(url=url)  # type: ignore[arg-type]
        assert caught.value.for_options(OPTIONS).startswith("The '--endpoint' option must be an http(s) URL")
    with pytest.raises(ParameterError, match="Got 'http://\\*\\*\\*@h:x' instead"):
        EndpointSettings(url="http://user:secret@h:x")  # credentials never shown
    bad = {
        "api_key_env": "",
        "max_concurrency": 0,
        "max_tokens_per_request": 0,
        "max_texts_per_request": True,
        "timeout": 0,
        "retries": -1,
        "memory_cache_bytes": None,
        "max_memory": "lots",
    }
    for field, value in bad.items():
        with pytest.raises(ParameterError, match=f"^The '{field}' parameter of EndpointEncoder must be"):
            EndpointSettings(url="http://localhost:8000", **{field: value})


def test_the_command_line_offers_the_enums_as_choices() -> None:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    options = {flag: action for action in commands.choices["run"]._actions for flag in action.option_strings}
    for flag, enum in (
        ("--precision", Precision),
        ("--engine", Engine),
        ("--encoder", EncoderChoice),
        ("--pooling", Pooling),
    ):
        assert options[flag].choices == [member.value for member in enum], flag
    assert {mode.value for mode in Pooling} == set(POOLING_MODES)
    # every settings field the command line sets reads its option from the one table
    for settings in (EncoderSettings, EndpointSettings):
        for field in dataclasses.fields(settings):
            if field.name in OPTIONS:
                assert OPTIONS[field.name] in options, field.name


def test_encoder_checks_its_keywords_before_loading_anything() -> None:
    # "unused" names no model: a bad keyword fails first, through EncoderSettings
    with pytest.raises(ParameterError, match="'precision' parameter of Encoder must be one of"):
        Encoder("unused", precision="fp64")
    with pytest.raises(ParameterError, match="'ray_address' parameter of Encoder"):
        Encoder("unused", ray_address="auto")
    with pytest.raises(ParameterError, match="'settings' parameter of Encoder must be an EncoderSettings"):
        Encoder.from_settings("unused", {"device": "cpu"})  # type: ignore[arg-type]


def test_encoder_from_settings_equals_the_keywords(tiny_model_path: Path) -> None:
    settings = EncoderSettings(device="cpu", precision="fp32", max_tokens_per_batch=64, pooling="cls")
    with Encoder.from_settings(tiny_model_path, settings, prompts={}) as encoder:
        assert encoder.settings == settings and encoder.model_prompts == {}
        assert (encoder.precision, encoder.devices, encoder.spec.pooling) == ("fp32", ["cpu"], ("cls",))
        assert encoder.max_tokens_per_batch == 64 and encoder.engine == "local"
        by_keywords = Encoder(
            tiny_model_path,
            device="cpu",
            precision="fp32",
            max_tokens_per_batch=64,
            pooling="cls",
            prompts={},
        )
        assert by_keywords.settings == settings
        texts = ["кошка", "собака спит"]
        assert (encoder.encode_texts(texts) == by_keywords.encode_texts(texts)).all()


def test_endpoint_encoder_takes_its_settings() -> None:
    pytest.importorskip("httpx", reason="the endpoint extra")
    settings = EndpointSettings(url="http://127.0.0.1:1", max_concurrency=3, timeout=2)
    encoder = EndpointEncoder.from_settings("org/served", settings, model_revision="r1", check=False)
    assert encoder.settings == settings and encoder.max_concurrency == 3 and encoder.model_revision == "r1"
    assert EndpointEncoder(
        "http://127.0.0.1:1", "org/served", max_concurrency=3, timeout=2, check=False
    ).settings == (settings)
    with pytest.raises(
        ParameterError, match="'max_concurrency' parameter of EndpointEncoder must be a positive"
    ):
        EndpointEncoder("http://127.0.0.1:1", "org/served", max_concurrency=0, check=False)
    with pytest.raises(
        ParameterError, match="'model' parameter of EndpointEncoder must be the served model name"
    ):
        EndpointEncoder.from_settings(" ", settings, check=False)
    with pytest.raises(ParameterError, match="'settings' parameter of EndpointEncoder"):
        EndpointEncoder.from_settings("org/served", EncoderSettings(), check=False)  # type: ignore[arg-type]
