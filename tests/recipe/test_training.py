"""Contrastive training: config validation, the shipped recipe config, and a few steps on a tiny BERT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _helpers import read_jsonl

from rumteb.recipe.config import TrainConfig, config_from_dict, config_to_dict, load_config
from rumteb.recipe.training import train

pytestmark = pytest.mark.usefixtures("single_threaded")

RECIPE = Path(__file__).resolve().parents[2] / "rumteb" / "recipe" / "configs" / "ru-en-rosberta.yaml"


def _minimal(**extra: object) -> dict[str, object]:
    dataset = {"name": "p", "path": "p.jsonl", "anchor": "a", "positive": "b"}
    return {"base_model": "m", "output_dir": "o", "datasets": [dataset], **extra}


def test_recipe_config_loads_with_the_papers_values() -> None:
    config = load_config(RECIPE)
    assert config.pooling == "cls"
    assert config.max_seq_length == 512
    assert config.prompts["search_query"] == "search_query: "
    assert {config.prompts[k] for k in ("classification", "clustering")} == {
        "classification: ",
        "clustering: ",
    }
    assert config.prompts["query"] == "search_query: " and config.prompts["document"] == "search_document: "
    assert "[paper]" in RECIPE.read_text(encoding="utf-8") and "[default]" in RECIPE.read_text(
        encoding="utf-8"
    )
    assert config_from_dict(config_to_dict(config)) == config
    assert load_config(RECIPE, ["max_steps=7", "output_dir=x"]).max_steps == 7


def test_unknown_keys_are_rejected_with_suggestions() -> None:
    with pytest.raises(
        LookupError, match=r"Unknown key in the config 'temprature'. Did you mean: temperature\?"
    ):
        config_from_dict(_minimal(temprature=0.1))
    bad_dataset = {"name": "p", "path": "p.jsonl", "anchor": "a", "positive": "b", "negative": ["c"]}
    with pytest.raises(LookupError, match=r"Unknown key in a dataset 'negative'. Did you mean: negatives\?"):
        config_from_dict(_minimal(datasets=[bad_dataset]))
    bad_role = {"name": "p", "path": "p.jsonl", "anchor": "a", "positive": "b", "prefixes": {"positiv": "x"}}
    with pytest.raises(LookupError, match=r"Did you mean: positive\?"):
        config_from_dict(_minimal(datasets=[bad_role]))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("pooling", "avg", "must be one of cls, mean"),
        ("temperature", 0, "must be a positive number"),
        ("batch_size", 2.5, "must be a positive integer"),
        ("precision", "fp8", "must be one of fp32, bf16, fp16"),
        ("warmup_ratio", 1.5, r"must be in \[0, 1\)"),
    ],
)
def test_invalid_values(key: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=rf"The '{key}' parameter of the training config {message}.* Got"):
        config_from_dict(_minimal(**{key: value}))


def test_config_is_frozen() -> None:
    config = config_from_dict(_minimal())
    assert isinstance(config, TrainConfig)
    with pytest.raises(AttributeError):
        config.seed = 1  # type: ignore[misc]


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> str:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return str(path)


def test_tiny_training_runs_and_saves_a_model_with_prompts(
    tiny_model_path: Path, shared_data: Path, tmp_path: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    para = [r for r in read_jsonl(shared_data / "train" / "paraphraser" / "train.jsonl") if r["label"] == 1][
        :40
    ]
    sts = read_jsonl(shared_data / "train" / "stsb_multi_mt" / "ru-train.jsonl")[:40]
    data = {
        "base_model": str(tiny_model_path),
        "output_dir": str(tmp_path / "run"),
        "max_seq_length": 64,
        "batch_size": 8,
        "mini_batch_size": 4,
        "learning_rate": 1e-3,
        "warmup_ratio": 0.0,
        "max_steps": 8,
        "precision": "fp32",
        "logging_steps": 1,
        "datasets": [
            {
                "name": "paraphraser",
                "path": _write_jsonl(tmp_path / "para.jsonl", para),
                "anchor": "sentence1",
                "positive": "sentence2",
                "where": {"label": 1},
                "prefixes": {"anchor": "search_query: ", "positive": "search_query: "},
            },
            {
                "name": "sts",
                "path": _write_jsonl(tmp_path / "sts.jsonl", sts),
                "anchor": "sentence1",
                "positive": "sentence2",
                "prefixes": {"anchor": "search_query: ", "positive": "search_document: "},
            },
        ],
    }
    result = train(config_from_dict(data))
    assert len(result.losses) == 8
    assert all(loss == loss and loss > 0 for loss in result.losses), result.losses
    assert sum(result.losses[-3:]) < sum(result.losses[:3])

    model = SentenceTransformer(str(result.model_dir), device="cpu")
    assert model.prompts["search_query"] == "search_query: "
    assert model.prompts["clustering"] == "clustering: "
    assert model.prompts["document"] == "search_document: "
    assert [type(m).__name__ for m in model][1:] == ["Pooling", "Normalize"]
    assert model[1].pooling_mode == "cls"
    assert model.encode(["Привет"], prompt_name="search_query").shape == (1, 64)
    saved = load_config(result.model_dir / "training_config.yaml")
    assert saved == config_from_dict(data)
    assert (tmp_path / "run" / "training_config.yaml").is_file()


def test_cli_train_parses_overrides(tmp_path: Path) -> None:

    from rumteb.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["train", str(RECIPE), "--set", "max_steps=3", "--set", "pooling=mean"])
    config = load_config(args.config, args.overrides)
    assert (config.max_steps, config.pooling) == (3, "mean")
    with pytest.raises(LookupError, match="Did you mean: pooling"):
        load_config(args.config, ["poolng=mean"])


def test_shipped_config_by_name_and_dump(capsys: pytest.CaptureFixture[str]) -> None:
    from rumteb.cli import main
    from rumteb.recipe.config import resolve_config, shipped_configs

    assert "ru-en-rosberta" in shipped_configs()
    assert resolve_config("ru-en-rosberta").name == "ru-en-rosberta.yaml"
    assert main(["train", "--dump-config", "ru-en-rosberta"]) == 0
    dumped = capsys.readouterr().out
    assert dumped == shipped_configs()["ru-en-rosberta"].read_text(encoding="utf-8")
    assert main(["train", "ru-en-rosbert"]) == 1
    assert "Did you mean: ru-en-rosberta, ru-en-rosberta-local?" in capsys.readouterr().err
