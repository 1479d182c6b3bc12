"""Damaged inputs end in one clear error line (issue 16), through ``rumteb.cli.main``: a hand-made mirror with a
truncated JSON Lines or Parquet file, a card whose YAML does not parse or has no header, a deleted file; a mirror
with a manifest changed in place (same size: only the sha256 sees it), hashed only when a file changed; model folders
with truncated weights, no tokenizer, or a config that does not match the weights. Random damage of the same inputs
through a real subprocess: tests/system/test_damage_fuzz.py."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from _helpers import STSB_ROWS, TERRA_ROWS, mirror_for_task, read_jsonl

import rumteb
from rumteb import data
from rumteb.cli import main
from rumteb.data import stamps as _mirror_checks
from rumteb.models.loading._folder_checks import ModelFolderError, check_model_folder

TERRA_PARQUET = "default/dev-00000-of-00001.parquet"


def _run(model: Path, mirror: Path, out: Path, *tasks: str, verbose: bool = False) -> list[str]:
    argv = ["-v"] if verbose else []
    argv += ["run", "-m", str(model), "-t", *(tasks or ("TERRa",)), "--data-dir", str(mirror)]
    return [*argv, "--output-folder", str(out), "--device", "cpu", "--precision", "fp32"]


def _error_line(err: str) -> str:
    """The one ``rumteb: error:`` line of a failed command; there is no traceback."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("rumteb: error:")]
    assert len(lines) == 1, err
    return lines[0]


def _results(out: Path) -> set[str]:
    return {p.stem for p in (out / "results").rglob("*.json") if p.name != "model_meta.json"}


def _handmade_terra(root: Path, shared: Path) -> Path:
    """TERRa as a user would copy it by hand: the real dev.jsonl (307 pairs) and a card naming it, no manifest."""
    folder = root / "mteb" / "TERRa"
    folder.mkdir(parents=True)
    rows = [
        {"sentence1": r["sentence1"], "sentence2": r["sentence2"], "labels": int(r["label"])}
        for r in read_jsonl(shared / "rumteb" / "TERRa" / "dev.jsonl")
    ]
    (folder / "dev.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8"
    )
    card = "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: dev\n    path: dev.jsonl\n---\n# TERRa\n"
    (folder / "README.md").write_text(card, encoding="utf-8")
    return folder


@pytest.fixture
def handmade(tmp_path: Path, shared_data: Path) -> Path:
    root = tmp_path / "mirror"
    _handmade_terra(root, shared_data)
    return root


# --- mirrors without a manifest -----------------------------------------------------------------------------------


def test_the_handmade_real_mirror_loads(handmade: Path) -> None:
    task = rumteb.get_task("TERRa", data_dir=handmade)
    task.load_data()
    assert len(task.dataset["dev"]) == 307


def test_a_truncated_jsonl_file_is_one_line_naming_it(
    handmade: Path, tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jsonl = handmade / "mteb" / "TERRa" / "dev.jsonl"
    jsonl.write_bytes(jsonl.read_bytes()[:100])
    assert main(_run(tiny_model_path, handmade, tmp_path / "o")) == 1
    line = _error_line(capsys.readouterr().err)
    folder = handmade / "mteb" / "TERRa"
    assert line.startswith(f"rumteb: error: TERRa: cannot read dev.jsonl in {folder} (line 1: "), line
    assert line.endswith(
        f'Run "rumteb data verify {handmade}"; re-pull with "rumteb data pull --tasks TERRa --to {handmade}".'
    ), line
    assert not _results(tmp_path / "o")


def test_verbose_shows_the_traceback_with_the_datasets_error_behind_it(
    handmade: Path, tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jsonl = handmade / "mteb" / "TERRa" / "dev.jsonl"
    jsonl.write_bytes(jsonl.read_bytes()[:100])
    assert main(_run(tiny_model_path, handmade, tmp_path / "o", verbose=True)) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "DatasetGenerationError" in err and "MirrorReadError" in err
    assert err.rstrip().splitlines()[-1].startswith("rumteb: error: TERRa: cannot read dev.jsonl")


@pytest.mark.parametrize(
    ("card", "cause"),
    [
        ("---\nconfigs: [\n---\n# TERRa\n", "its YAML header does not parse"),
        ("---\nconfigs:\n- config_name: default\n  data_files:\n  - split: dev\n", "never closed"),
        ("---\nconfigs: default\n---\n", "'configs' must be a list of mappings"),
        (
            "---\nconfigs:\n- config_name: default\n  data_files:\n  - splat: dev\n    path: dev.jsonl\n---\n",
            "must be paths or mappings with exactly 'split' and 'path'",
        ),
        ("", "split 'dev' of subset 'default' is missing after loading (found: validation)"),
    ],
    ids=[
        "yaml-does-not-parse",
        "header-not-closed",
        "configs-not-a-list",
        "data-files-key",
        "no-header-inferred-layout",
    ],
)
def test_a_broken_card_is_an_error_never_an_inferred_layout(
    handmade: Path,
    tmp_path: Path,
    card: str,
    cause: str,
    tiny_model_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # With the card gone datasets infers the layout from file names and dev.jsonl becomes "validation".
    (handmade / "mteb" / "TERRa" / "README.md").write_text(card, encoding="utf-8")
    assert main(_run(tiny_model_path, handmade, tmp_path / "o")) == 1
    line = _error_line(capsys.readouterr().err)
    assert f"TERRa: cannot read README.md in {handmade / 'mteb' / 'TERRa'} (" in line, line
    assert cause in line, line


def test_no_card_and_a_wrong_inferred_layout_says_so(handmade: Path) -> None:
    (handmade / "mteb" / "TERRa" / "README.md").unlink()
    with pytest.raises(
        data.MirrorReadError, match=r"there is no README.md, so datasets inferred the layout .*dev"
    ):
        rumteb.get_task("TERRa", data_dir=handmade).load_data()


@pytest.mark.parametrize("damage", ["truncate", "empty", "delete"])
def test_a_damaged_parquet_file_names_it_and_earlier_results_stay(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    mirror = tmp_path / "mirror"
    mirror_for_task(mirror, "TERRa", {"default": TERRA_ROWS})
    sts = mirror_for_task(mirror, "RuSTSBenchmarkSTS", {"default": STSB_ROWS})
    for manifest in mirror.rglob(data.MANIFEST):
        manifest.unlink()  # hand-made: only reading the file can tell
    parquet = sts / "default" / "test-00000-of-00001.parquet"
    if damage == "delete":
        parquet.unlink()
    else:
        parquet.write_bytes(
            parquet.read_bytes()[: parquet.stat().st_size // 2 if damage == "truncate" else 0]
        )
    out = tmp_path / "o"
    assert main(_run(tiny_model_path, mirror, out, "TERRa", "RuSTSBenchmarkSTS")) == 1
    line = _error_line(capsys.readouterr().err)
    assert f"RuSTSBenchmarkSTS: cannot read default/test-00000-of-00001.parquet in {sts} (" in line, line
    assert _results(out) == {"TERRa"}  # the task finished before the damaged one keeps its result


def test_a_missing_split_after_a_wrong_card_names_the_card(tmp_path: Path) -> None:
    mirror_for_task(tmp_path, "TERRa", {"default": {"train": TERRA_ROWS["dev"]}})
    for manifest in tmp_path.rglob(data.MANIFEST):
        manifest.unlink()
    with pytest.raises(data.MirrorReadError, match=r"cannot read README.md .*split 'dev' .*found: train"):
        rumteb.get_task("TERRa", data_dir=tmp_path).load_data()


# --- mirrors with a manifest: hashed when changed, refused on a mismatch ------------------------------------------


def _flip_keep_size_and_mtime(path: Path) -> None:
    info = path.stat()
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # as rsync -t or a careless tool would leave it


def test_a_same_size_change_is_refused_by_its_sha256(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mirror = tmp_path / "mirror"
    folder = mirror_for_task(mirror, "TERRa", {"default": TERRA_ROWS})
    _flip_keep_size_and_mtime(folder / TERRA_PARQUET)
    assert main(_run(tiny_model_path, mirror, tmp_path / "o")) == 1
    line = _error_line(capsys.readouterr().err)
    assert (
        f"TERRa: cannot read {TERRA_PARQUET} in {folder} (its sha256 differs from .rumteb-manifest.json"
        in line
    )
    assert not _results(tmp_path / "o")


def test_files_are_hashed_once_until_they_change(tmp_path: Path) -> None:
    folder = mirror_for_task(tmp_path, "TERRa", {"default": TERRA_ROWS})
    manifest = data.read_manifest(folder / data.MANIFEST)
    time.sleep(_mirror_checks.RACY_SECONDS + 0.1)  # files changed just before a check are hashed again (racy)

    def check() -> list[str]:
        return _mirror_checks.check_against_manifest(folder, manifest, "TERRa", tmp_path)

    assert check() == sorted(manifest.files)
    assert check() == []  # unchanged: nothing read
    task = rumteb.get_task("TERRa", data_dir=tmp_path)
    task.load_data()  # the task's load uses the same record
    assert len(task.dataset["dev"]) == 20
    readme = folder / "README.md"
    os.utime(readme)  # touched, same bytes: hashed again, still fine
    assert check() == ["README.md"]
    raw = bytearray((folder / TERRA_PARQUET).read_bytes())
    raw[-20] ^= 0x01
    (folder / TERRA_PARQUET).write_bytes(bytes(raw))
    with pytest.raises(data.ManifestError, match=r"sha256 differs"):
        check()
    with pytest.raises(data.ManifestError, match=r"sha256 differs"):
        check()  # a refused file is never recorded as verified


def test_a_file_not_in_the_manifest_and_an_unreadable_manifest_are_refused(tmp_path: Path) -> None:
    folder = mirror_for_task(tmp_path, "TERRa", {"default": TERRA_ROWS})
    shutil.copy(folder / TERRA_PARQUET, folder / "default" / "dev-00001-of-00001.parquet")
    with pytest.raises(data.ManifestError, match=r"cannot read default/dev-00001-of-00001.parquet .*not in"):
        rumteb.get_task("TERRa", data_dir=tmp_path).load_data()
    (folder / "default" / "dev-00001-of-00001.parquet").unlink()
    manifest = folder / data.MANIFEST
    manifest.write_bytes(manifest.read_bytes()[:50])
    with pytest.raises(data.ManifestError, match=rf"TERRa: cannot read {data.MANIFEST} in .*JSONDecodeError"):
        rumteb.get_task("TERRa", data_dir=tmp_path).load_data()


# --- model folders ---------------------------------------------------------------------------------------------------


def _truncate_weights(folder: Path) -> None:
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])


def _drop_tokenizer(folder: Path) -> None:
    for name in ("tokenizer.json", "vocab.txt"):
        (folder / name).unlink(missing_ok=True)


def _more_layers_in_config(folder: Path) -> None:
    config = json.loads((folder / "config.json").read_text())
    config["num_hidden_layers"] += 1
    (folder / "config.json").write_text(json.dumps(config))


def _pooling_dimension(folder: Path) -> None:
    config = json.loads((folder / "1_Pooling" / "config.json").read_text())
    config["embedding_dimension"] += 1
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_truncate_weights, "model.safetensors is truncated: its tensors need"),
        (_drop_tokenizer, "tokenizer.json is missing, and so is every other tokenizer file"),
        (_more_layers_in_config, "config.json does not match model.safetensors: 16 tensors the config needs"),
        (_pooling_dimension, "1_Pooling/config.json says the embeddings have 65 dimensions"),
    ],
    ids=["truncated-weights", "no-tokenizer", "config-not-matching", "pooling-dimension"],
)
@pytest.mark.parametrize("encoder", ["rumteb", "sentence-transformers"])
def test_a_damaged_model_folder_is_one_line_naming_the_file_and_the_fix(
    tiny_model_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: object,
    expected: str,
    encoder: str,
) -> None:
    mirror = tmp_path / "mirror"
    mirror_for_task(mirror, "TERRa", {"default": TERRA_ROWS})
    damage(tiny_model_path)  # type: ignore[operator]
    argv = [*_run(tiny_model_path, mirror, tmp_path / "o"), "--encoder", encoder]
    if encoder == "sentence-transformers":
        argv.remove("--precision")
        argv.remove("fp32")
    assert main(argv) == 1
    line = _error_line(capsys.readouterr().err)
    assert line.startswith(f"rumteb: error: Cannot load the model '{tiny_model_path}': {expected}"), line
    assert line.endswith("download it again or pass the --model-revision its files belong to."), line


def test_the_real_model_folder_passes_and_a_header_flip_does_not(minilm_path: Path, tmp_path: Path) -> None:
    check_model_folder(minilm_path)  # real weights (with position_ids saved by an older transformers)
    copy = tmp_path / "minilm"
    shutil.copytree(minilm_path, copy)
    weights = copy / "model.safetensors"
    raw = bytearray(weights.read_bytes())
    raw[8 + 10] = ord("{")  # inside the JSON header
    weights.write_bytes(bytes(raw))
    with pytest.raises(ModelFolderError, match=r"model.safetensors has a corrupt header \("):
        check_model_folder(copy)
