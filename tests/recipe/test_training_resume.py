"""Resuming: a run stopped after a checkpoint and resumed ends where an uninterrupted run ends, weight for weight."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _helpers import read_jsonl

from rumteb.recipe.config import config_from_dict, load_config
from rumteb.recipe.training import train

pytestmark = pytest.mark.usefixtures("single_threaded")


class _Crash(Exception):
    pass


def _config(model: Path, shared: Path, tmp_path: Path, out: str, **extra: object) -> dict[str, object]:
    train_dir = shared / "train"
    rows = {
        "paraphraser": [r for r in read_jsonl(train_dir / "paraphraser" / "train.jsonl") if r["label"] == 1][
            :40
        ],
        "stsb_ru": read_jsonl(train_dir / "stsb_multi_mt" / "ru-train.jsonl")[:32],
    }
    datasets = []
    for name, data in rows.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in data), encoding="utf-8")
        datasets.append({"name": name, "path": str(path), "anchor": "sentence1", "positive": "sentence2"})
    return {
        "base_model": str(model),
        "output_dir": str(tmp_path / out),
        "max_seq_length": 32,
        "batch_size": 4,
        "mini_batch_size": 2,
        "learning_rate": 1e-3,
        "warmup_ratio": 0.2,
        "max_steps": 6,
        "save_steps": 3,
        "precision": "fp32",
        "logging_steps": 1,
        "datasets": datasets,
        **extra,
    }


def _weights(folder: Path) -> dict[str, object]:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def test_resume_after_a_crash_matches_an_uninterrupted_run(
    tiny_model_path: Path, shared_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from transformers import TrainerCallback

    class CrashAfterFirstCheckpoint(TrainerCallback):
        def on_save(self, args: object, state: object, control: object, **kwargs: object) -> None:
            if getattr(state, "global_step", 0) == 3:
                raise _Crash

    whole = train(config_from_dict(_config(tiny_model_path, shared_data, tmp_path, "whole")))
    assert whole.global_step == 6 and whole.resumed_from is None

    interrupted = _config(tiny_model_path, shared_data, tmp_path, "parts")
    with pytest.raises(_Crash):
        train(config_from_dict(interrupted), callbacks=[CrashAfterFirstCheckpoint()])
    assert not (tmp_path / "parts" / "final").exists()
    with caplog.at_level("WARNING", logger="rumteb.recipe.training"):
        resumed = train(config_from_dict({**interrupted, "resume": True}))
    assert "differs" not in caplog.text  # same run: resume itself is not a change

    assert resumed.resumed_from == tmp_path / "parts" / "checkpoint-3"
    assert resumed.global_step == 6
    # The resumed run skips the 3 batches already seen and restores optimizer, scheduler and RNG states, so it
    # replays steps 4-6 exactly: same datasets, same losses, same weights. On one CPU thread the arithmetic is
    # identical; 1e-6 only absorbs float32 rounding should the kernels reorder a sum.
    assert resumed.step_datasets == whole.step_datasets[3:]
    assert resumed.losses == pytest.approx(whole.losses[3:], abs=1e-6)
    a, b = _weights(whole.model_dir), _weights(resumed.model_dir)
    assert a.keys() == b.keys()
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-6  # type: ignore[operator]
    # Not a vacuous comparison: training moved the weights.
    base = _weights(tiny_model_path)
    assert max(float((a[k] - base[k]).abs().max()) for k in a if k in base) > 1e-3  # type: ignore[operator]
    # resume is a way to run, not part of the run: the saved config leaves it out.
    assert load_config(resumed.model_dir / "training_config.yaml").resume is False


def test_resume_without_checkpoint_starts_from_scratch(
    tiny_model_path: Path, shared_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # mini_batch_size == batch_size: the plain MNRL path (no GradCache)
    config = _config(
        tiny_model_path,
        shared_data,
        tmp_path,
        "fresh",
        max_steps=2,
        save_steps=0,
        resume=True,
        mini_batch_size=4,
    )
    with caplog.at_level("WARNING", logger="rumteb.recipe.training"):
        result = train(config_from_dict(config))
    assert result.resumed_from is None and result.global_step == 2
    assert "no checkpoint" in caplog.text


def test_cli_resume_flag_sets_the_config_key(tmp_path: Path) -> None:

    from rumteb.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["train", "x.yaml", "--resume"]).resume is True
    assert parser.parse_args(["train", "x.yaml"]).resume is False


def test_resume_warns_about_a_changed_config(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import yaml

    from rumteb.recipe.config import config_to_dict
    from rumteb.recipe.training import _warn_on_changed_config

    dataset = {"name": "p", "path": "p.jsonl", "anchor": "a", "positive": "b"}
    before = {
        k: v
        for k, v in config_to_dict(
            config_from_dict({"base_model": "m", "output_dir": "o", "datasets": [dataset]})
        ).items()
        if k != "resume"
    }
    (tmp_path / "training_config.yaml").write_text(yaml.safe_dump(before), encoding="utf-8")
    with caplog.at_level("WARNING", logger="rumteb.recipe.training"):
        _warn_on_changed_config(tmp_path / "training_config.yaml", before)
        assert caplog.text == ""
        _warn_on_changed_config(
            tmp_path / "training_config.yaml", {**before, "learning_rate": 1.0, "seed": 1}
        )
    assert "differs from the interrupted run's" in caplog.text and "learning_rate, seed" in caplog.text
