"""A model trained by rumteb train records what it was trained on; rumteb run carries it into model_meta.json, and
the board shows a Zero-shot below 100 marked "measured" for a source with planted overlap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _helpers import STSB_ROWS, TERRA_ROWS, mirror_for_task, read_jsonl

from rumteb.cli import main
from rumteb.models.training_record import read_training_record
from rumteb.recipe.config import config_from_dict
from rumteb.recipe.provenance import training_record
from rumteb.reporting import ranking, results


@pytest.mark.usefixtures("single_threaded")
def test_planted_overlap_is_measured_on_the_board(
    tiny_model_path: Path, tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rumteb.recipe.training import train

    mirror = tmp_path / "mirror"
    mirror_for_task(mirror, "TERRa", {"default": TERRA_ROWS})
    mirror_for_task(mirror, "RuSTSBenchmarkSTS", {"default": STSB_ROWS})
    pairs = read_jsonl(shared_data / "train" / "paraphraser" / "train.jsonl")[:40]
    rows = [{"a": r["sentence1"], "b": r["sentence2"]} for r in pairs]
    planted = TERRA_ROWS["dev"][0]  # a TERRa evaluation pair copied into the training source
    rows.append({"a": planted["sentence1"], "b": planted["sentence2"]})
    source = tmp_path / "pairs.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    config = config_from_dict({
        "base_model": str(tiny_model_path), "output_dir": str(tmp_path / "trained"), "seed": 0, "max_steps": 1,
        "batch_size": 8, "mini_batch_size": 8, "precision": "fp32", "max_seq_length": 32,
        "datasets": [{"name": "pairs", "path": str(source), "anchor": "a", "positive": "b"}],
        "exclude_contaminated": {"data_dir": str(mirror), "benchmark": "ruMTEB", "near": False},
    })  # fmt: skip
    import rumteb.benchmark as benchmark

    monkeypatch.setitem(benchmark.BENCHMARK_TASKS, "ruMTEB", ("TERRa", "RuSTSBenchmarkSTS"))  # mirrored here
    model_dir = train(config).model_dir
    record = read_training_record(model_dir)
    assert record is not None and record.overlap_checked and record.trained_on == ()
    assert set(record.overlap) == {"TERRa"} and record.overlap["TERRa"]["pairs"]["exact"] >= 1
    assert record.sources == ({"name": "pairs", "path": str(source)},)

    out = tmp_path / "out"
    argv = ["run", "-m", str(model_dir), "-t", "TERRa", "RuSTSBenchmarkSTS", "--data-dir", str(mirror)]
    assert main([*argv, "--output-folder", str(out), "--device", "cpu"]) == 0
    (meta_path,) = out.glob("results/*/*/model_meta.json")
    assert json.loads(meta_path.read_text(encoding="utf-8"))["training_datasets"] == ["TERRa"]
    models = results.load_results(out)
    (row,) = ranking.board_rows(models, "ruMTEB")
    # mteb's expansion of TERRa by similar tasks stays outside these two tasks: 1 of 2 trained on
    assert (row["Zero-shot"], row["Zero-shot source"]) == (50, "measured")
    assert any("measured by rumteb train" in note for note in ranking.board_notes(models))


def test_a_hub_source_on_a_task_train_split_counts_as_trained_on(tmp_path: Path) -> None:
    from rumteb.tasks import TASKS_BY_NAME

    terra = str(TASKS_BY_NAME["TERRa"].metadata.dataset["path"])
    config = config_from_dict({
        "base_model": "m", "output_dir": str(tmp_path / "out"), "data_dir": str(tmp_path),
        "datasets": [
            {"name": "terra", "hub": terra, "revision": "0" * 40, "anchor": "a", "positive": "b"},
            {"name": "terra-dev", "hub": terra, "revision": "0" * 40, "split": "dev", "anchor": "a", "positive": "b"},
        ],
    })  # fmt: skip
    record = training_record(config)
    assert record.trained_on == ("TERRa",) and not record.overlap_checked and record.overlap == {}
    assert record.sources[0] == {"name": "terra", "hub": terra, "revision": "0" * 40, "split": "train"}
