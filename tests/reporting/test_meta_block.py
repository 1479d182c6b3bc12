"""The ``ModelMeta`` block ``rumteb check`` writes for a model mteb's registry does not know: valid Python that
mteb's ``ModelMeta`` accepts, with the folder's values and None (commented) for what the folder does not hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mteb.models import ModelMeta

from rumteb.cli import main
from rumteb.reporting import meta_block
from rumteb.reporting.check import check_results


@pytest.fixture
def local_run(tiny_model_path: Path, tmp_path: Path) -> Path:
    """The revision folder of a ``rumteb run`` of a tiny local model on TERRa."""
    from _helpers import TERRA_ROWS, mirror_for_task

    mirror = tmp_path / "mirror"
    mirror_for_task(mirror, "TERRa", {"default": TERRA_ROWS})
    out = tmp_path / "out"
    argv = ["run", "-m", str(tiny_model_path), "-t", "TERRa", "--data-dir", str(mirror), "--device", "cpu"]
    assert main([*argv, "--output-folder", str(out)]) == 0
    (folder,) = (out / "results").glob("*/*")
    return folder


def _evaluate(block: str) -> ModelMeta:
    namespace: dict[str, Any] = {}
    exec(
        compile(block, "<ModelMeta block>", "exec"), namespace
    )  # the block imports ModelMeta from mteb itself
    (meta,) = [value for value in namespace.values() if isinstance(value, ModelMeta)]
    return meta


def _recorded(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    meta = json.loads((folder / "model_meta.json").read_text(encoding="utf-8"))
    (settings,) = [json.loads(line) for line in (folder / "run_settings.jsonl").read_text().splitlines()]
    return meta, settings["rumteb"]["model"]


def test_the_block_of_a_local_run_is_a_model_meta_with_the_folders_values(
    local_run: Path, tiny_model_path: Path
) -> None:
    meta, counted = _recorded(local_run)
    report = check_results(local_run.parent.parent)
    assert list(report.model_meta_blocks) == [meta["name"]]
    assert any("is not in mteb's model registry" in p.message for p in report.errors)
    block = report.model_meta_blocks[meta["name"]]
    model = _evaluate(block)
    assert (model.name, model.revision) == (meta["name"], local_run.name)
    # rumteb run counts the weights into model_meta.json; run_settings.jsonl holds the same count
    assert meta["n_parameters"] == model.n_parameters == counted["n_parameters"] > 0
    # the embedding matrix by mteb's rule (vocab_size x hidden_size of config.json): Active Parameters known
    config = json.loads((tiny_model_path / "config.json").read_text(encoding="utf-8"))
    embedding = config["vocab_size"] * config["hidden_size"]
    assert meta["n_embedding_parameters"] == model.n_embedding_parameters == embedding
    assert model.n_active_parameters == model.n_parameters - embedding > 0
    assert (model.embed_dim, model.max_tokens) == (counted["embed_dim"], meta["max_tokens"])
    assert model.memory_usage_mb == model.calculate_memory_usage_mb()  # mteb's rule, without the Hub
    assert (
        model.similarity_fn_name is not None and model.similarity_fn_name.value == meta["similarity_fn_name"]
    )
    for key in ("framework", "use_instructions", "open_weights", "training_datasets", "languages", "license"):
        assert getattr(model, key) == meta[key], key
    assert model.loader is None
    # what the folder does not hold is None with a comment naming it, never guessed
    unknown = ["release_date", "languages", "license", "training_datasets"]
    for key in unknown:
        (line,) = [line for line in block.splitlines() if line.startswith(f"    {key}=")]
        assert line.startswith(f"    {key}=None,  # {key}: not "), line
    assert "    max_tokens=128,\n" in block  # a recorded value carries no comment


def test_declared_values_come_through_and_the_cli_writes_the_file(
    local_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = local_run / "model_meta.json"
    declared = {
        "languages": ["rus-Cyrl", "eng-Latn"],
        "training_datasets": ["TERRa", "RuBQRetrieval"],
        "license": "mit",
        "release_date": "2025-01-31",
        "n_parameters": 123456,
        "n_embedding_parameters": 4096,
        "reference": "https://huggingface.co/org/tiny",
        "adapted_from": "org/base",
    }
    path.write_text(json.dumps({**json.loads(path.read_text()), **declared}), encoding="utf-8")
    block = meta_block.model_meta_block(local_run)
    model = _evaluate(block)
    for key, value in declared.items():
        expected = set(value) if key == "training_datasets" else value
        assert getattr(model, key) == expected, key
    assert 'training_datasets={"RuBQRetrieval", "TERRa"},\n' in block
    assert model.memory_usage_mb == round(123456 * 4 / 2**20)
    out = tmp_path / "model_meta_block.py"
    assert main(["check", str(local_run), "--model-meta-out", str(out)]) == 1  # a local model is not ready
    assert out.read_text(encoding="utf-8") == block
    assert f"written to {out}" in capsys.readouterr().out


def test_registered_models_need_no_block() -> None:
    assert meta_block.is_registered("ai-forever/ru-en-RoSBERTa")
    assert not meta_block.is_registered("local/tiny-bert")
