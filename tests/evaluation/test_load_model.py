"""`load_model`: a model spec and one settings object in, an mteb encoder out; its errors name parameters (the
command line shows them under its options)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import rumteb.evaluation
from rumteb.cli import main
from rumteb.cli._options import OPTIONS
from rumteb.errors import ParameterError
from rumteb.evaluation.resolve import load_model
from rumteb.models import EncoderSettings, EndpointSettings

CPU = EncoderSettings(device="cpu")


def test_load_model_takes_one_settings_object() -> None:
    parameters = inspect.signature(rumteb.evaluation.load_model).parameters
    assert len(parameters) <= 6
    assert list(parameters)[:2] == ["model", "settings"]


def test_bad_parameters_are_named(tiny_model_path: Path) -> None:
    cases = [
        ({"encoder": "fast"}, "encoder", "must be one of auto, sentence-transformers, rumteb. Got 'fast'"),
        (
            {"settings": {"device": "cpu"}},
            "settings",
            "must be an EncoderSettings, an EndpointSettings or None",
        ),
    ]
    for keywords, parameter, expected in cases:
        with pytest.raises(
            ParameterError, match=f"The '{parameter}' parameter of load_model {expected}"
        ) as caught:
            load_model(str(tiny_model_path), **keywords)  # type: ignore[arg-type]
        assert caught.value.parameter == parameter
    with pytest.raises(
        ParameterError, match="'model' parameter of load_model must be an existing model folder"
    ):
        load_model("org/..")
    with pytest.raises(
        ParameterError, match="'model' parameter of load_model must be a model folder, not a file"
    ):
        load_model(str(tiny_model_path / "config.json"))
    served = EndpointSettings(url="http://127.0.0.1:1")
    with pytest.raises(
        ParameterError, match="'encoder' parameter of load_model must be 'auto' for a served model"
    ):
        load_model("org/served", served, encoder="rumteb")


def test_sentence_transformers_refuses_rumteb_settings_by_name(tiny_model_path: Path) -> None:
    settings = CPU.replace(precision="bf16", cache_dir="c", max_length=16)
    with pytest.raises(ParameterError) as caught:
        load_model(str(tiny_model_path), settings, encoder="sentence-transformers")
    assert str(caught.value).startswith(
        "precision, max_length, cache_dir are settings of rumteb's encoder; the sentence-transformers encoder runs"
    )
    assert "Use encoder='rumteb' or drop precision, max_length, cache_dir." in str(caught.value)
    # the command line names the options (max_length has none: it keeps its name)
    assert caught.value.for_options(OPTIONS).startswith("--precision, max_length, --cache-dir are settings")
    assert "Use --encoder rumteb or drop" in caught.value.for_options(OPTIONS)
    # what sentence-transformers honours passes: a device, trust_remote_code, allow_pickle
    honoured = EncoderSettings(device="cpu", trust_remote_code=True, allow_pickle=True)
    assert type(load_model(str(tiny_model_path), honoured, encoder="sentence-transformers")).__name__ == (
        "SentenceTransformerEncoderWrapper"
    )
    with pytest.raises(ParameterError, match="'device' parameter of load_model must be one device") as caught:
        load_model(str(tiny_model_path), EncoderSettings(device="cpu,cpu"), encoder="sentence-transformers")
    assert caught.value.for_options(OPTIONS).startswith("The '--device' option must be one device")


def test_prompts_none_keeps_the_models_own_and_empty_drops_them(tiny_model_path: Path) -> None:
    for encoder in ("rumteb", "sentence-transformers"):
        assert load_model(str(tiny_model_path), CPU, encoder=encoder, prompts={}).model_prompts == {}
        given = load_model(str(tiny_model_path), CPU, encoder=encoder, prompts={"TERRa": "x: "})
        assert given.model_prompts == {"TERRa": "x: "}


def test_the_command_line_shows_options_not_parameters(
    tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "-m", str(tiny_model_path), "-t", "TERRa"]
    cases = [
        (
            ["--max-tokens-per-batch", "0"],
            "The '--max-tokens-per-batch' option must be a positive int. Got 0",
        ),
        (["--max-memory", "lots"], "The '--max-memory' option must be a size such as 4GiB"),
        (["--ray-address", "auto"], "The '--ray-address' option must be left out unless the engine is 'ray'"),
        (
            ["--device", "cpu,cpu", "--encoder", "sentence-transformers"],
            "The '--device' option must be one device",
        ),
        (
            ["--model-revision", "main", "--endpoint", "ftp://x"],
            "The '--endpoint' option must be an http(s) URL",
        ),
        (
            ["--endpoint", "http://127.0.0.1:1", "--max-concurrency", "0"],
            "The '--max-concurrency' option must be",
        ),
        (
            [
                "--endpoint",
                "http://127.0.0.1:1",
                "--encoder",
                "rumteb",
                "--precision",
                "bf16",
                "--engine",
                "ray",
            ],
            "--encoder, --precision, --engine are settings of the local encoders; with --endpoint the server runs",
        ),
        (
            ["--api-key-env", "K", "--max-concurrency", "2"],
            "--api-key-env, --max-concurrency apply to a served",
        ),
    ]
    for extra, expected in cases:
        assert main([*argv, *extra]) == 1, extra
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err, (extra, err)
