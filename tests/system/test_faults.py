"""Fault injection, in process: bad input (models, weights, encoder outputs, data), stale stored results, output
folders that cannot be written, and names that would leave their folder. Every case goes through
``rumteb.cli.main`` (status 1, one message on stderr) or the function behind it.

Covered elsewhere and not repeated here: unknown task/benchmark "Did you mean" and bad CLI values
(tests/cli/test_cli.py::test_bad_arguments_exit_nonzero_with_a_message); missing data dir or dataset folder, revision
mismatch, changed mirror files, ``rumteb data verify``, manifest path safety, dataset-id path safety and symlinks
(tests/data/test_data.py); fuzzing of the manifest and result-file readers (tests/data/test_data.py, tests/reporting/test_results.py);
the embedding cache's checksums and atomic segments (tests/models/test_encoder_cache.py); CUDA out-of-memory halving
(tests/models/test_encoder.py::test_out_of_memory_halves_the_budget_and_retries). Kills and Ctrl-C of a real run:
tests/system/test_faults_crash.py; fuzzing of the training config loader: tests/system/test_faults_fuzz.py.
"""

from __future__ import annotations

import errno
import json
import logging
import re
from pathlib import Path
from typing import Any

import mteb
import numpy as np
import pytest
from _helpers import STSB_ROWS, TERRA_ROWS, mirror_for_task
from mteb.models.abs_encoder import AbsEncoder
from mteb.models.model_meta import ModelMeta, ScoringFunction

import rumteb
from rumteb.cli import main
from rumteb.evaluation.loop import run_tasks
from rumteb.evaluation.resolve import load_model

TERRA_DEV = TERRA_ROWS["dev"]


def _mirror(root: Path, terra: list[dict[str, Any]] | None = None) -> Path:
    mirror_for_task(root, "TERRa", {"default": {"dev": terra if terra is not None else TERRA_DEV}})
    mirror_for_task(root, "RuSTSBenchmarkSTS", {"default": STSB_ROWS})
    return root


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    return _mirror(tmp_path / "mirror")


def _run_argv(model: Path | str, mirror: Path, out: Path, *tasks: str) -> list[str]:
    argv = ["run", "-m", str(model), "-t", *(tasks or ("TERRa",)), "--data-dir", str(mirror)]
    return [*argv, "--output-folder", str(out), "--device", "cpu", "--precision", "fp32"]


def _error_line(err: str) -> str:
    """The one error line of a failed command (earlier lines are progress output)."""
    lines = [line for line in err.splitlines() if line.startswith("rumteb: error:")]
    assert len(lines) == 1, err
    return lines[0]


def _result_files(out: Path) -> dict[str, Path]:
    return {p.stem: p for p in (out / "results").rglob("*.json") if p.name != "model_meta.json"}


class FakeEncoder(AbsEncoder):
    """Random embeddings, broken on request: ``nan``, ``inf``, ``rows`` (one row short), ``dim`` (one column more
    than declared), ``dim-later`` (no declared dimension; the second call has another)."""

    def __init__(self, fault: str = "", dim: int = 8, name: str = "test/fake", revision: str = "r1") -> None:
        self.fault, self.dim, self.calls = fault, dim, 0
        self.mteb_model_meta = ModelMeta.create_empty(
            overwrites={
                "name": name,
                "revision": revision,
                "embed_dim": None if fault == "dim-later" else dim,
                "similarity_fn_name": ScoringFunction.COSINE,
                "framework": ["PyTorch"],
            }
        )

    def encode(self, inputs: Any, *, task_metadata: Any, hf_split: str, hf_subset: str, **kwargs: Any) -> Any:
        texts = [t for batch in inputs for t in batch["text"]]
        self.calls += 1
        rng = np.random.default_rng(len(texts))
        dim = self.dim + (self.fault == "dim" or (self.fault == "dim-later" and self.calls > 1))
        out = rng.normal(size=(len(texts), dim)).astype(np.float32)
        if self.fault in ("nan", "inf"):
            out[3, 1] = np.nan if self.fault == "nan" else np.inf
        return out[:-1] if self.fault == "rows" else out


# ----------------------------------------------------------------------------------------------------------------
# 3. bad input: models


def test_unknown_model_id_is_a_message_not_a_traceback(
    mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "RUMTEB_DATA_DIR", str(mirror)
    )  # offline: the tasks' data is checked before the model loads
    for encoder in ("sentence-transformers", "rumteb"):
        argv = [
            "run",
            "-m",
            "ai-forever/ru-en-RoSBERTaa",
            "-t",
            "TERRa",
            "--encoder",
            encoder,
            "--device",
            "cpu",
        ]
        assert main([*argv, "--output-folder", str(tmp_path / "o")]) == 1
        err = capsys.readouterr().err
        assert err.startswith("rumteb: error: Unknown model 'ai-forever/ru-en-RoSBERTaa'."), err
        assert "Did you mean: ai-forever/ru-en-RoSBERTa?" in err, err
        assert "loading it from the Hub failed: " in err and ".." not in err, err
        assert "Traceback" not in err


@pytest.mark.parametrize("spec", ["org/..", "../model", "org/../../etc", "a b/c", "org/-x"])
def test_model_ids_with_dots_or_odd_characters_are_refused(
    spec: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # relative specs resolve here, where they do not exist
    assert main(["run", "-m", spec, "-t", "TERRa", "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err or "must be an existing model folder" in err, err
    assert not (tmp_path / "results").exists()


def test_model_path_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "-m", str(tmp_path / "nope"), "-t", "TERRa"]) == 1
    assert f"The model folder '{tmp_path / 'nope'}' does not exist" in capsys.readouterr().err


def _to_pickle_only(folder: Path, suffix: str = "pytorch_model.bin") -> None:
    import torch
    from safetensors.torch import load_file

    torch.save(load_file(str(folder / "model.safetensors")), folder / suffix)
    (folder / "model.safetensors").unlink()


@pytest.mark.parametrize("weights", ["pytorch_model.bin", "model.pt", "model.ckpt"])
def test_pickle_only_weights_are_refused_without_allow_pickle(
    weights: str, tiny_model_path: Path, mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _to_pickle_only(tiny_model_path, weights)
    for encoder in ("rumteb", "sentence-transformers", "auto"):
        argv = [
            "run",
            "-m",
            str(tiny_model_path),
            "-t",
            "TERRa",
            "--data-dir",
            str(mirror),
            "--device",
            "cpu",
        ]
        assert main([*argv, "--output-folder", str(tmp_path / "o"), "--encoder", encoder]) == 1
        err = capsys.readouterr().err
        assert f"has pickle weights only ({weights})" in err and "--allow-pickle" in err, err
    assert not (tmp_path / "o" / "results").exists()
    if weights == "pytorch_model.bin":  # the format transformers reads: runs once allowed
        from rumteb.models import Encoder
        from rumteb.models.loading._folder_checks import PickleWeightsError

        with pytest.raises(PickleWeightsError, match="--allow-pickle"):
            Encoder(str(tiny_model_path), device="cpu")
        Encoder(str(tiny_model_path), device="cpu", allow_pickle=True).encode_texts(["кошка"])
        assert main([*_run_argv(tiny_model_path, mirror, tmp_path / "o"), "--allow-pickle"]) == 0
        assert set(_result_files(tmp_path / "o")) == {"TERRa"}


def test_pickle_only_module_folder_is_refused(tiny_model_path: Path) -> None:
    from rumteb.models.loading._folder_checks import PickleWeightsError, check_weights_format

    dense = tiny_model_path / "2_Dense"
    dense.mkdir()
    (dense / "pytorch_model.bin").write_bytes(b"not read")
    with pytest.raises(PickleWeightsError, match=r"2_Dense/pytorch_model.bin"):
        check_weights_format(tiny_model_path, allow_pickle=False)
    check_weights_format(tiny_model_path, allow_pickle=True)
    (dense / "training_args.bin").write_bytes(b"x")  # not weights: no reason to refuse on it alone
    (dense / "pytorch_model.bin").unlink()
    check_weights_format(tiny_model_path, allow_pickle=False)


def test_hub_snapshot_falls_back_to_pickles_only_with_allow_pickle(
    tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    from rumteb.models.loading import _resolve as _loading

    _to_pickle_only(tiny_model_path)
    calls: list[list[str]] = []

    def fake_snapshot(repo_id: str, revision: str | None = None, allow_patterns: Any = None) -> str:
        calls.append(list(allow_patterns))
        return str(tiny_model_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot)
    with pytest.raises(_loading.PickleWeightsError, match="no safetensors weights on the Hub"):
        _loading.resolve("org/old-model", None)
    assert len(calls) == 1 and "*.bin" not in calls[0]  # the pickles were never downloaded
    _loading.resolve("org/old-model", None, allow_pickle=True)
    assert "*.bin" in calls[-1]


@pytest.mark.parametrize("given", [False, True])
def test_trust_remote_code_is_passed_only_when_asked(
    given: bool,
    mirror: Path,
    tiny_model_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import sentence_transformers

    monkeypatch.setenv(
        "RUMTEB_DATA_DIR", str(mirror)
    )  # offline: the tasks' data is checked before the model loads

    import rumteb.models.encoder as encoder_module
    from rumteb.errors import RumtebError

    seen: dict[str, Any] = {}

    class Stop(RumtebError):  # a user error: main prints its one line
        pass

    def record(name: str) -> Any:
        def fake(*args: Any, **kwargs: Any) -> Any:
            seen[name] = kwargs.get("trust_remote_code")
            raise Stop(f"stop after recording {name}")

        return fake

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", record("sentence-transformers"))
    monkeypatch.setattr(encoder_module.Encoder, "__init__", record("rumteb"))  # from_settings passes keywords
    flag = ["--trust-remote-code"] if given else []
    for encoder in ("sentence-transformers", "rumteb"):
        argv = ["run", "-m", str(tiny_model_path), "-t", "TERRa", "--encoder", encoder, *flag]
        assert main(argv) == 1
        assert "stop after recording" in capsys.readouterr().err
    assert seen == {"sentence-transformers": given, "rumteb": given}


# ----------------------------------------------------------------------------------------------------------------
# 3. bad input: encoder outputs and data


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("nan", r"returned NaN or inf for 1 of \d+ inputs \(task TERRa, split dev\); the first is row 3: '"),
        ("inf", r"returned NaN or inf for 1 of \d+ inputs \(task TERRa, split dev\); the first is row 3"),
        (
            "rows",
            r"returned (\d+) embeddings for \d+ inputs \(task TERRa, split dev\); the first row without",
        ),
        ("dim", r"returned 9-dimensional embeddings \(task TERRa, split dev\); expected 8, as its declared"),
        (
            "dim-later",
            r"returned 9-dimensional embeddings \(task TERRa, split dev\); expected 8, as its first",
        ),
    ],
)
def test_broken_encoder_output_fails_the_run_naming_task_split_and_row(
    fault: str,
    message: str,
    mirror: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("rumteb.evaluation.resolve.load_model", lambda *args, **kwargs: FakeEncoder(fault))
    assert main(_run_argv("test/fake", mirror, tmp_path / "o")) == 1
    err = capsys.readouterr().err
    assert _error_line(err).startswith("rumteb: error: The encoder FakeEncoder "), err
    assert re.search(message, err), err
    assert _result_files(tmp_path / "o") == {}  # no score computed from it was stored


def test_the_guard_keeps_the_models_protocols_and_restores_encode(mirror: Path, tmp_path: Path) -> None:
    from mteb.models.models_protocols import EncoderProtocol

    model = FakeEncoder()
    run_tasks(model, [rumteb.get_task("TERRa", data_dir=mirror)], output_folder=tmp_path / "o")
    assert "encode" not in vars(model) and isinstance(model, EncoderProtocol)
    assert model.calls > 0


def test_none_in_the_data_names_task_split_and_row(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [dict(r) for r in TERRA_DEV]
    rows[5]["sentence1"] = None
    mirror = _mirror(tmp_path / "m", rows)
    assert main(_run_argv(tiny_model_path, mirror, tmp_path / "o")) == 1
    err = capsys.readouterr().err
    assert "The input text of row 5 (task TERRa, split dev) is None, not a string" in err, err
    assert "Traceback" not in err


def test_empty_strings_encode_and_the_run_succeeds(tmp_path: Path, tiny_model_path: Path) -> None:
    rows = [dict(r) for r in TERRA_DEV]
    rows[2]["sentence1"], rows[7]["sentence2"] = "", ""
    mirror = _mirror(tmp_path / "m", rows)
    for encoder in ("rumteb", "sentence-transformers"):
        argv = _run_argv(tiny_model_path, mirror, tmp_path / encoder)
        if encoder == "sentence-transformers":
            argv = argv[:-2]
        assert main([*argv, "--encoder", encoder]) == 0
        assert set(_result_files(tmp_path / encoder)) == {"TERRa"}


def test_texts_over_the_models_limit_are_truncated_and_said_once_per_task(
    tmp_path: Path, tiny_model_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [dict(r) for r in TERRA_DEV]
    for i in (1, 4, 9):
        rows[i]["sentence1"] = " ".join(["кошка сидит на окне"] * 80) + f" {i}"  # distinct: no dedup
    mirror = _mirror(tmp_path / "m", rows)
    for encoder in ("rumteb", "sentence-transformers"):
        argv = _run_argv(tiny_model_path, mirror, tmp_path / encoder, "TERRa", "RuSTSBenchmarkSTS")
        argv = argv[:-2] if encoder == "sentence-transformers" else argv  # no --precision for it
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="rumteb"):
            assert main([*argv, "--encoder", encoder]) == 0
        notes = [r.getMessage() for r in caplog.records if "truncated" in r.getMessage()]
        assert len(notes) == 1, notes  # TERRa once; RuSTSBenchmarkSTS has no long text
        assert notes[0].startswith("TERRa: 3 of ") and "longer than the model's limit of" in notes[0]


# ----------------------------------------------------------------------------------------------------------------
# 3. bad input: output folder not writable, disk full


def test_output_folder_under_a_regular_file_names_the_folder(
    tmp_path: Path, mirror: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = blocker / "out"
    assert (
        main(["run", "-m", "x", "-t", "TERRa", "--output-folder", str(out), "--data-dir", str(mirror)]) == 1
    )
    err = capsys.readouterr().err
    assert f"Cannot create the output folder '{out}': '{blocker}' is a file, not a folder" in err, err


def test_disk_full_mid_write_keeps_the_earlier_result_whole(
    tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("rumteb.evaluation.resolve.load_model", lambda *args, **kwargs: FakeEncoder())
    out = tmp_path / "o"
    assert main(_run_argv("test/fake", mirror, out)) == 0
    stored = _result_files(out)["TERRa"]
    before = stored.read_bytes()
    sidecar = stored.with_suffix(".rumteb").read_bytes()

    def full_disk(self: mteb.TaskResult, path: Path) -> None:
        path.write_text('{"dataset_revision": "half a fi')  # the write dies half way
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mteb.TaskResult, "to_disk", full_disk)
    argv = _run_argv("test/fake", mirror, out, "TERRa", "RuSTSBenchmarkSTS")
    assert main([*argv, "--overwrite-strategy", "always"]) == 1
    err = capsys.readouterr().err
    assert f"into the folder '{stored.parent}': No space left on device" in err, err
    assert _error_line(err) == err.splitlines()[-1] and "[Errno" not in err
    assert stored.read_bytes() == before and stored.with_suffix(".rumteb").read_bytes() == sidecar
    assert sorted(p.name for p in stored.parent.iterdir()) == [
        ".run_settings.lock",
        "TERRa.json",
        "TERRa.rumteb",
        "model_meta.json",
        "run_settings.jsonl",
    ]
    mteb.ResultCache(out).load_results(require_model_meta=False)  # mteb still reads the folder


# ----------------------------------------------------------------------------------------------------------------
# 2. stale results


def _stored(out: Path) -> tuple[Path, Path]:
    path = _result_files(out)["TERRa"]
    return path, path.with_suffix(".rumteb")


def _rewrite_record(sidecar: Path, **changes: Any) -> None:
    record = json.loads(sidecar.read_text())
    definition = record["definition"]
    for key, value in changes.items():
        if key in definition:
            definition[key] = value
        else:
            record[key] = value
    sidecar.write_text(json.dumps(record))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"main_score": "cosine_ap"}, "main_score 'cosine_ap' != 'max_ap' (this run)"),
        ({"eval_splits": ["test"]}, "eval_splits ['test'] != ['dev'] (this run)"),
        ({"hf_subsets": ["en"]}, "hf_subsets ['en'] != ['default'] (this run)"),
        ({"model_revision": "r0"}, "model revision r0 != r1 (this run)"),
    ],
)
def test_a_stored_result_of_another_definition_is_rerun_with_the_reason(
    change: dict[str, Any],
    reason: str,
    mirror: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("rumteb.evaluation.resolve.load_model", lambda *args, **kwargs: FakeEncoder())
    out = tmp_path / "o"
    argv = _run_argv("test/fake", mirror, out)
    assert main(argv) == 0
    path, sidecar = _stored(out)
    _rewrite_record(sidecar, **change)
    mtime = path.stat().st_mtime_ns
    capsys.readouterr()
    with caplog.at_level(logging.WARNING, logger="rumteb"):
        assert main(argv) == 0
    assert f"[re-run: the stored result did not match: {reason}]" in capsys.readouterr().err
    assert any(f"Not reusing the stored result {path}: {reason}" in r.getMessage() for r in caplog.records)
    assert path.stat().st_mtime_ns != mtime
    mtime = path.stat().st_mtime_ns
    assert main(argv) == 0 and path.stat().st_mtime_ns == mtime  # now it matches: reused, not rerun again
    assert "re-run" not in capsys.readouterr().err


def test_a_plain_mteb_result_of_another_dataset_revision_is_rerun(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """mteb itself reuses it (same task name, complete); we do not."""
    monkeypatch.setattr("rumteb.evaluation.resolve.load_model", lambda *args, **kwargs: FakeEncoder())
    out = tmp_path / "o"
    argv = _run_argv("test/fake", mirror, out)
    assert main(argv) == 0
    path, sidecar = _stored(out)
    sidecar.unlink()  # as mteb writes it
    data = json.loads(path.read_text())
    data["dataset_revision"] = "0" * 40
    path.write_text(json.dumps(data))
    task = rumteb.get_task("TERRa", data_dir=mirror)
    reused = mteb.evaluate(FakeEncoder(), [task], cache=mteb.ResultCache(out), show_progress_bar=False)
    assert reused.task_results[0].dataset_revision == "0" * 40  # the trap this guards against
    capsys.readouterr()
    assert main(argv) == 0
    revision = rumteb.get_task("TERRa").metadata.revision
    assert f"dataset revision {'0' * 40} != {revision} (this run)" in capsys.readouterr().err
    assert json.loads(path.read_text())["dataset_revision"] == revision


def test_a_result_with_more_splits_than_the_benchmark_scores_is_rerun(
    mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """RuSTSBenchmarkSTS on its own has test and validation; ruMTEB scores test only. A stored two-split result
    would be averaged over both by mteb's reuse."""
    model = FakeEncoder()
    out = tmp_path / "o"
    full = rumteb.get_task("RuSTSBenchmarkSTS", data_dir=mirror)
    assert sorted(full.eval_splits) == ["test", "validation"]
    run_tasks(model, [full], output_folder=out)
    (benchmark_task,) = rumteb.get_tasks(["RuSTSBenchmarkSTS"], data_dir=mirror)
    (outcome,) = run_tasks(model, [benchmark_task], output_folder=out)
    assert outcome.rerun_reason is not None and "splits ['validation']" in outcome.rerun_reason
    stored = mteb.TaskResult.from_disk(_result_files(out)["RuSTSBenchmarkSTS"])
    assert set(stored.scores) == {"test"}


@pytest.mark.parametrize("strategy", ["never", "only-cache"])
def test_never_and_only_cache_refuse_a_stale_result(
    strategy: str,
    mirror: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("rumteb.evaluation.resolve.load_model", lambda *args, **kwargs: FakeEncoder())
    out = tmp_path / "o"
    argv = _run_argv("test/fake", mirror, out)
    assert main(argv) == 0
    path, sidecar = _stored(out)
    _rewrite_record(sidecar, main_score="cosine_ap")
    before = path.read_bytes()
    capsys.readouterr()
    assert main([*argv, "--overwrite-strategy", strategy]) == 1
    err = capsys.readouterr().err
    assert f"The stored result {path} does not match this run: main_score" in err
    assert f"--overwrite-strategy {strategy} does not replace it" in err
    assert path.read_bytes() == before
    _rewrite_record(sidecar, main_score="max_ap")  # matching again: mteb's meanings
    assert main([*argv, "--overwrite-strategy", strategy]) == 0
    assert path.read_bytes() == before


def test_a_truncated_stored_result_is_rerun_not_read(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file cut short by a crash of an older writer (mteb's plain open) trips mteb's loader; we re-run it."""
    monkeypatch.setattr("rumteb.evaluation.resolve.load_model", lambda *args, **kwargs: FakeEncoder())
    out = tmp_path / "o"
    argv = _run_argv("test/fake", mirror, out)
    assert main(argv) == 0
    path, _ = _stored(out)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError):
        mteb.TaskResult.from_disk(path)
    capsys.readouterr()
    assert main(argv) == 0
    assert "cannot be read (JSONDecodeError" in capsys.readouterr().err
    mteb.TaskResult.from_disk(path)


# ----------------------------------------------------------------------------------------------------------------
# 5. path safety


@pytest.mark.parametrize(
    ("name", "revision", "what"),
    [
        ("..", "r1", "model name"),
        ("test/fake", "../../../escape", "model revision"),
        ("test/fake", "/tmp/escape", "model revision"),
        ("test/fake", "..", "model revision"),
    ],
)
def test_model_names_and_revisions_never_lead_results_out_of_the_folder(
    name: str, revision: str, what: str, mirror: Path, tmp_path: Path
) -> None:
    out = tmp_path / "deep" / "o"
    with pytest.raises(ValueError, match=f"The {what} '.*' cannot name a folder of the results"):
        run_tasks(
            FakeEncoder(name=name, revision=revision),
            [rumteb.get_task("TERRa", data_dir=mirror)],
            output_folder=out,
        )
    written = [
        p
        for p in tmp_path.rglob("*")
        if p.is_file() and "mirror" not in p.parts and "hf-datasets-cache" not in p.parts
    ]
    assert written == []


def test_task_names_with_paths_are_unknown_tasks(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("../TERRa", "/etc/passwd", "TERRa/../../x"):
        assert main(["run", "-m", "x", "-t", name]) == 1
        assert f"Unknown task {name!r}" in capsys.readouterr().err


def test_embedding_cache_stays_in_its_folder(tiny_model_path: Path, tmp_path: Path) -> None:
    """The cache namespace is a hash of the settings, never a user-given name."""
    from rumteb.models import Encoder

    cache = tmp_path / "cache"
    encoder = Encoder(str(tiny_model_path), device="cpu", precision="fp32", cache_dir=cache)
    encoder.encode_texts(["кошка", "собака"])
    assert re.fullmatch(r"[0-9a-f]{32}", encoder.namespace)
    assert [p.relative_to(cache).parts[0] for p in cache.rglob("*") if p.is_file()] != []
    assert {p.relative_to(cache).parts[0] for p in cache.rglob("*")} == {encoder.namespace}


def test_load_model_refuses_an_id_that_climbs_out(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be an existing model folder"):
        load_model("org/..")
