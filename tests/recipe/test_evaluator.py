"""ruMTEB inside training: RuMTEBEvaluator and the train config's ``eval`` key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mteb
import pytest
from _helpers import read_jsonl
from real_mirror import build as build_real_mirror

from rumteb.cli import main
from rumteb.evaluation import RuMTEBEvaluator
from rumteb.recipe.config import EvalConfig, config_from_dict, config_to_dict
from rumteb.recipe.training import train


def _config(tiny_model_path: Path, shared_data: Path, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    rows = [r for r in read_jsonl(shared_data / "train" / "paraphraser" / "train.jsonl") if r["label"] == 1][
        :32
    ]
    path = tmp_path / "para.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return {
        "base_model": str(tiny_model_path),
        "output_dir": str(tmp_path / "run"),
        "max_seq_length": 64,
        "batch_size": 8,
        "mini_batch_size": 8,
        "learning_rate": 1e-3,
        "warmup_ratio": 0.0,
        "precision": "fp32",
        "logging_steps": 1,
        "datasets": [{"name": "para", "path": str(path), "anchor": "sentence1", "positive": "sentence2"}],
        **extra,
    }


def test_eval_config_is_validated_and_round_trips(
    tiny_model_path: Path, shared_data: Path, tmp_path: Path
) -> None:
    data = _config(tiny_model_path, shared_data, tmp_path, eval={"tasks": ["TERRa"], "every_steps": 5})
    config = config_from_dict(data)
    assert config.eval == EvalConfig(tasks=("TERRa",), every_steps=5)
    assert config_from_dict(config_to_dict(config)) == config
    import yaml

    from rumteb.recipe.config import load_config

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in data.items() if k != "eval"}), encoding="utf-8")
    assert load_config(path, ["eval={tasks: [TERRa], every_steps: 5}"]) == config  # rumteb train --set
    with pytest.raises(LookupError, match=r"Unknown key in eval 'every_step'\. Did you mean: every_steps\?"):
        config_from_dict({**data, "eval": {"tasks": ["TERRa"], "every_step": 5}})
    with pytest.raises(ValueError, match=r"'eval\.every_steps'"):
        config_from_dict({**data, "eval": {"tasks": ["TERRa"], "every_steps": 0}})
    with pytest.raises(ValueError, match="must set 'tasks'"):
        config_from_dict({**data, "eval": {"every_steps": 5}})
    with pytest.raises(LookupError, match=r"Unknown task 'TERA'\. Did you mean: TERRa\?"):
        RuMTEBEvaluator(["TERA"])
    with pytest.raises(ValueError, match="The 'tasks' parameter of RuMTEBEvaluator must be a non-empty list"):
        RuMTEBEvaluator("TERRa")
    with pytest.raises(ValueError, match="The 'precision' parameter of RuMTEBEvaluator must be one of"):
        RuMTEBEvaluator(["TERRa"], precision="int8")


@pytest.mark.usefixtures("single_threaded")
def test_training_logs_rumteb_scores_equal_to_a_run_of_the_checkpoint(
    tiny_model_path: Path, shared_data: Path, tmp_path: Path
) -> None:
    from transformers import TrainerCallback

    mirror = tmp_path / "real"
    build_real_mirror(mirror, shared_data)  # TERRa dev, exact ruMTEB data
    evaluations: dict[int, dict[str, float]] = {}

    class Record(TrainerCallback):
        def on_evaluate(
            self, args: Any, state: Any, control: Any, metrics: Any = None, **kwargs: Any
        ) -> None:
            evaluations[state.global_step] = dict(metrics or {})

    extra = {
        "max_steps": 4,
        "save_steps": 2,
        "eval": {"tasks": ["TERRa"], "every_steps": 2, "data_dir": str(mirror)},
    }
    train(config_from_dict(_config(tiny_model_path, shared_data, tmp_path, **extra)), callbacks=[Record()])
    assert sorted(evaluations) == [2, 4]
    for metrics in evaluations.values():
        assert metrics["eval_rumteb_mean"] == metrics["eval_rumteb_TERRa"]
        assert 0 < metrics["eval_rumteb_TERRa"] <= 1
    assert evaluations[2]["eval_rumteb_TERRa"] != evaluations[4]["eval_rumteb_TERRa"]  # the weights changed

    out = tmp_path / "out"
    argv = ["run", "-m", str(tmp_path / "run" / "checkpoint-2"), "-t", "TERRa", "--data-dir", str(mirror)]
    assert main([*argv, "--output-folder", str(out), "--device", "cpu"]) == 0
    (result,) = (out / "results").rglob("TERRa.json")
    stored = mteb.TaskResult.from_disk(result).get_score()
    assert stored == pytest.approx(
        round(evaluations[2]["eval_rumteb_TERRa"], 6), abs=1e-12
    )  # mteb stores 6 decimals


def test_a_folders_sentence_transformers_prompt_names_are_dropped_not_refused() -> None:
    """rumteb train saves prompt names (search_query, classification) beside mteb keys; rumteb's encoder keeps the
    mteb keys, as mteb's sentence-transformers wrapper does, so `rumteb run` runs a trained model."""
    from rumteb.models.prompts import folder_prompts, validate_prompts
    from rumteb.recipe.config import DEFAULT_PROMPTS

    kept = folder_prompts(DEFAULT_PROMPTS)
    assert "search_query" not in kept and "classification" not in kept
    assert kept["query"] == "search_query: " and kept["STS"] == "classification: "
    assert kept["Reranking-document"] == "search_document: "
    with pytest.raises(ValueError, match="Invalid keys in the 'prompts' parameter"):
        validate_prompts(DEFAULT_PROMPTS)  # prompts given by the user stay strict
