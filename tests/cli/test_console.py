"""The console of ``rumteb run``: quiet third-party output (shown with -v), the data-source check before the model
loads, and evaluator thread pools that leave torch's alone."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest
from _helpers import TERRA_ROWS, mirror_for_task
from real_mirror import build as build_real_mirror

import rumteb
from rumteb.cli import main
from rumteb.data import MissingDataError, preflight
from rumteb.evaluation import console as _console
from rumteb.evaluation import resolve as runner


def _model_must_not_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded before the data check failed")

    monkeypatch.setattr(runner, "_load_rumteb", refuse)
    monkeypatch.setattr(runner, "_load_local", refuse)


def test_offline_without_a_mirror_fails_before_the_model_loads(
    tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _model_must_not_load(monkeypatch)  # conftest sets HF_HUB_OFFLINE=1 and unsets RUMTEB_DATA_DIR
    assert main(["run", "-m", str(tiny_model_path), "-t", "TERRa", "CEDRClassification"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "rumteb: error: TERRa, CEDRClassification would load from the Hugging Face Hub, but "
    )
    for needed in (
        "HF_HUB_OFFLINE=1",
        "--data-dir DIR",
        "RUMTEB_DATA_DIR=DIR",
        "rumteb data pull --benchmark",
    ):
        assert needed in err
    assert len(err.splitlines()) == 1


def test_a_mirror_without_a_task_fails_before_the_model_loads(
    tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mirror = tmp_path / "mirror"
    mirror_for_task(mirror, "TERRa", {"default": TERRA_ROWS})
    _model_must_not_load(monkeypatch)
    monkeypatch.setenv("RUMTEB_DATA_DIR", str(mirror))  # the environment variable counts as a mirror
    assert main(["run", "-m", str(tiny_model_path), "-t", "TERRa", "RuSTSBenchmarkSTS"]) == 1
    err = capsys.readouterr().err
    assert "The dataset ai-forever/ru-stsbenchmark-sts is not in the offline data folder" in err
    assert "rumteb data pull --tasks RuSTSBenchmarkSTS" in err
    preflight.check_data_sources(rumteb.get_tasks(["TERRa"]))  # the task it has passes


def test_online_without_a_mirror_is_left_to_the_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("HF_DATASETS_OFFLINE")
    asked: list[tuple[list[dict[str, str]], list[str]]] = []
    # online, the Hub is asked for each pinned dataset (tests/data/test_hub_http.py does it over HTTP)
    monkeypatch.setattr(
        preflight, "check_hub_access", lambda datasets, tasks: asked.append((list(datasets), tasks))
    )
    preflight.check_data_sources(rumteb.get_tasks(["TERRa"]))
    assert asked == [([rumteb.get_task("TERRa").metadata.dataset], ["TERRa"])]
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "true")
    with pytest.raises(MissingDataError, match="HF_DATASETS_OFFLINE=1"):
        preflight.check_data_sources(rumteb.get_tasks(["TERRa"]))


def _warn_from(module: str) -> None:
    exec("import warnings\nwarnings.warn('from ' + __name__, RuntimeWarning)", {"__name__": module})


def test_quiet_silences_third_party_output_and_restores_it() -> None:
    import datasets

    mteb_logger = logging.getLogger("mteb")
    before = mteb_logger.level
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with _console.quiet(verbose=0):
            _warn_from("mteb._evaluators.multilabel")  # numpy's RuntimeWarning as mteb's evaluator raises it
            _warn_from("rumteb.models.loading._resolve")  # a library's deprecation raised under rumteb's call
            logging.getLogger("rumteb.evaluation.resolve").warning(
                "kept"
            )  # rumteb's own warnings are log records
            assert not datasets.utils.logging.is_progress_bar_enabled()
            assert mteb_logger.level == logging.ERROR
            assert logging.getLogger("rumteb").getEffectiveLevel() <= logging.WARNING
        assert caught == []
        assert datasets.utils.logging.is_progress_bar_enabled()
        assert mteb_logger.level == before
        with _console.quiet(verbose=1):  # -v shows everything
            _warn_from("mteb._evaluators.multilabel")
            assert datasets.utils.logging.is_progress_bar_enabled()
        assert [str(w.message) for w in caught][-1] == "from mteb._evaluators.multilabel"


def test_evaluator_pools_run_one_thread_and_torch_keeps_its_own() -> None:
    import torch
    from threadpoolctl import threadpool_info

    torch_threads = torch.get_num_threads()
    before = {p["filepath"]: p["num_threads"] for p in threadpool_info()}
    with _console.evaluator_threads():
        inside = {p["filepath"]: p["num_threads"] for p in threadpool_info()}
        assert torch.get_num_threads() == torch_threads
    torch_dir = str(Path(torch.__file__).parent)
    evaluators = [path for path in inside if not path.startswith(torch_dir)]
    assert any("openblas" in path for path in evaluators)  # numpy's and scipy's BLAS at least
    assert all(inside[path] == 1 for path in evaluators)
    assert all(inside[path] == before[path] for path in inside if path.startswith(torch_dir))
    after = {p["filepath"]: p["num_threads"] for p in threadpool_info()}
    assert all(after[path] == before.get(path, after[path]) for path in after)
    with _console.evaluator_threads(0):  # --evaluator-threads 0: left as they are
        assert {p["filepath"]: p["num_threads"] for p in threadpool_info()} == after


@pytest.mark.usefixtures("single_threaded")
def test_a_multilabel_run_prints_one_line_per_task_and_no_warning(
    shared_data: Path,
    tiny_model_path: Path,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """CEDR (real data): mteb's multilabel evaluator warns from numpy ten times (shown with -v); the console
    shows the task lines and rumteb's own warnings only."""
    mirror = tmp_path / "real"
    build_real_mirror(mirror, shared_data)
    capfd.readouterr()
    caplog.clear()
    argv = ["run", "-m", str(tiny_model_path), "-t", "CEDRClassification", "TERRa", "--data-dir", str(mirror)]
    assert main([*argv, "--output-folder", str(tmp_path / "out"), "--device", "cpu"]) == 0
    err = capfd.readouterr().err.splitlines()
    assert err[0].startswith("Evaluating local/tiny-bert (revision ")
    assert err[1].startswith("  [1/2] CEDRClassification  accuracy = ")
    assert err[2].startswith("  [2/2] TERRa               max_ap = ")
    assert err[3].startswith("Encoded ")
    assert len(err) == 4, err  # no RuntimeWarning, no datasets or transformers progress bars
    # rumteb's own warnings stay (here logged to pytest, on the console in a real run), once per task each
    unverified = [r for r in caplog.records if "its revision is unverified" in r.getMessage()]
    assert [r.name for r in unverified] == ["rumteb.data", "rumteb.data"]
    assert not [r for r in caplog.records if not r.name.startswith("rumteb")]


def test_evaluator_threads_must_not_be_negative(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "-m", "x", "-t", "TERRa", "--evaluator-threads", "-1"]) == 1
    assert "The '--evaluator-threads' option must be 0 or a positive int. Got -1" in capsys.readouterr().err
