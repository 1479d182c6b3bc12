"""rumteb.models.MODEL_METAS: ru-en-RoSBERTa with mteb's metadata and prompts, loaded by rumteb's encoder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import mteb
import numpy as np
import pytest

import rumteb
import rumteb.models
from rumteb.errors import ParameterError
from rumteb.models import Encoder, EncoderSettings, get_model_meta
from rumteb.models._metas import ROSBERTA_REVISION


def test_import_is_light() -> None:
    code = (
        "import sys, rumteb, rumteb.models; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_model_metas() -> None:
    names = [meta.name for meta in rumteb.models.MODEL_METAS]
    assert names == ["ai-forever/ru-en-RoSBERTa", "rumteb/navec-avg"]


def test_rosberta_is_mteb_s_metadata_with_our_loader() -> None:
    ours = get_model_meta("ai-forever/ru-en-RoSBERTa")
    builtin = mteb.get_model_meta("ai-forever/ru-en-RoSBERTa")
    assert ours.loader is Encoder
    assert ours.revision == ROSBERTA_REVISION == "89fb1651989adbb1cfcfdedafd7d102951ad0555"
    assert ours.loader_kwargs == {"prompts": builtin.loader_kwargs["model_prompts"]}
    assert ours.loader_kwargs["prompts"]["query"] == "search_query: "
    assert ours.loader_kwargs["prompts"]["STS22"] == "clustering: "
    same = {"loader", "loader_kwargs"}
    assert ours.model_dump(exclude=same) == builtin.model_dump(exclude=same)
    with pytest.raises(LookupError, match="Known: ai-forever/ru-en-RoSBERTa"):
        get_model_meta("ai-forever/FRIDA")


def test_register_keeps_mteb_s_own_entry() -> None:
    from mteb.models.model_implementations import MODEL_REGISTRY

    rumteb.register()
    assert MODEL_REGISTRY["rumteb/navec-avg"].name == "rumteb/navec-avg"
    assert MODEL_REGISTRY["ai-forever/ru-en-RoSBERTa"].loader is not Encoder  # built-ins are never replaced
    assert mteb.get_model_meta("rumteb/navec-avg").loader_kwargs == {}


def test_rosberta_loader_runs_offline_with_its_prompts(
    tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registered loader path end to end, with the tiny model standing in for the weights in the HF cache."""
    import huggingface_hub.constants

    repo = tmp_path / "hub" / "models--ai-forever--ru-en-RoSBERTa"
    shutil.copytree(tiny_model_path, repo / "snapshots" / ROSBERTA_REVISION)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    model = get_model_meta("ai-forever/ru-en-RoSBERTa").load_model(device="cpu", precision="fp32")
    assert isinstance(model, Encoder)
    assert model.mteb_model_meta.name == "ai-forever/ru-en-RoSBERTa"
    assert model.mteb_model_meta.revision == ROSBERTA_REVISION
    sts = rumteb.get_task("STS22").metadata
    assert model.get_prompt(sts, None) == "clustering: "
    assert (
        model.get_prompt(rumteb.get_task("RuBQRetrieval").metadata, mteb.types.PromptType.query)
        == "search_query: "
    )
    out = model.encode_texts(["Привет"], prompt="clustering: ")
    assert out.shape == (1, 64) and np.isfinite(out).all()


def test_rumteb_run_uses_the_registered_rosberta_with_rumteb_s_encoder(
    tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rumteb run -m ai-forever/ru-en-RoSBERTa`` (auto): rumteb's encoder, mteb's metadata, prompts and revision,
    results in the leaderboard's folder (no "experiment" subfolder for the encoder settings)."""
    import huggingface_hub.constants
    from _helpers import mirror_for_task

    from rumteb.cli import main
    from rumteb.evaluation.resolve import load_model

    repo = tmp_path / "hub" / "models--ai-forever--ru-en-RoSBERTa"
    shutil.copytree(tiny_model_path, repo / "snapshots" / ROSBERTA_REVISION)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    # the tiny stand-in has 64 dimensions where the real model has 1024 (rumteb's run checks the output's width)
    from rumteb.models import _metas, baselines

    tiny_meta = _metas.rosberta_meta().model_copy(update={"embed_dim": 64})
    monkeypatch.setattr(_metas, "model_metas", lambda: [tiny_meta, baselines.navec_meta()])
    cpu = EncoderSettings(device="cpu")
    model = load_model("ai-forever/ru-en-RoSBERTa", cpu.replace(precision="fp32", cache_dir=tmp_path / "c"))
    assert isinstance(model, Encoder) and model.precision == "fp32"
    assert model.get_prompt(rumteb.get_task("TERRa").metadata, None) == "classification: "
    builtin = mteb.get_model_meta("ai-forever/ru-en-RoSBERTa")
    same = {"loader", "loader_kwargs", "embed_dim"}
    assert model.mteb_model_meta.model_dump(exclude=same) == builtin.model_dump(exclude=same)
    assert load_model("ai-forever/ru-en-RoSBERTa", cpu, prompts={}).model_prompts == {}
    with pytest.raises(ParameterError, match="'revision' parameter of load_model must be 89fb1651"):
        load_model("ai-forever/ru-en-RoSBERTa", cpu, revision="main")

    rows = [
        {"sentence1": f"Кот {i} спит.", "sentence2": f"Кот {i} дремлет.", "labels": i % 2} for i in range(12)
    ]
    mirror = tmp_path / "mirror"
    mirror_for_task(mirror, "TERRa", {"default": {"dev": rows}})
    out = tmp_path / "out"
    argv = ["run", "-m", "ai-forever/ru-en-RoSBERTa", "-t", "TERRa", "--data-dir", str(mirror)]
    assert (
        main([*argv, "--device", "cpu", "--output-folder", str(out), "--cache-dir", str(tmp_path / "c")]) == 0
    )
    folder = out / "results" / "ai-forever__ru-en-RoSBERTa" / ROSBERTA_REVISION
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".json") == [
        "TERRa.json",
        "model_meta.json",
    ]


def test_navec_baseline_through_the_runner() -> None:
    pytest.importorskip("natasha", reason="the baselines extra (installed in CI)")
    from rumteb.evaluation.resolve import load_model
    from rumteb.models.baselines import NavecAverage

    assert isinstance(load_model("rumteb/navec-avg"), NavecAverage)
    assert isinstance(load_model("rumteb/navec-avg", encoder="rumteb"), NavecAverage)
