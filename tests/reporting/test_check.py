"""``rumteb check``: the published results pass; each mutation of a copy is caught, with its fix."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from rumteb.cli import main
from rumteb.reporting.check import check_results
from rumteb.reporting.result_file import ResultsError

E5 = "intfloat__multilingual-e5-small"
E5_REVISION = "fd1525a9fd15316a2d503bf26ab031a61d056e98"


@pytest.fixture(scope="module")
def published(shared_data: Path) -> Path:
    return shared_data / "published"


@pytest.fixture
def modern(published: Path, tmp_path: Path) -> Path:
    """A copy of e5's published folder as mteb 2 writes a new submission: mteb_version 2.26.24 in every file and
    score entry, model_meta.json, run_settings.jsonl (mteb's format); dataset revisions left as published."""
    folder = tmp_path / "results" / E5 / E5_REVISION
    shutil.copytree(published / "results" / E5 / E5_REVISION, folder)
    settings = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["mteb_version"] = "2.26.24"
        for split, entries in data["scores"].items():
            for entry in entries:
                entry["mteb_version"] = "2.26.24"
            subsets = sorted(e["hf_subset"] for e in entries)
            settings.append(
                {"task": path.stem, "splits": [split], "version": {"mteb": "2.26.24"}, "subsets": subsets}
            )
        path.write_text(json.dumps(data), encoding="utf-8")
    meta = {"name": "intfloat/multilingual-e5-small", "revision": E5_REVISION, "n_parameters": 117653760}
    (folder / "model_meta.json").write_text(json.dumps(meta), encoding="utf-8")
    (folder / "run_settings.jsonl").write_text(
        "".join(json.dumps(s) + "\n" for s in settings), encoding="utf-8"
    )
    return folder


def _errors(path: Path) -> list[str]:
    return [str(p) for p in check_results(path).errors]


def test_published_results_pass_with_revision_warnings(published: Path) -> None:
    report = check_results(published)
    assert report.ok and report.errors == []
    assert len(report.models) == 6
    revision_warnings = [p for p in report.warnings if "dataset revision" in p.message]
    assert len(revision_warnings) == 36  # of the 138 published task files, as the issue counted
    terra = next(p for p in revision_warnings if p.where.name == "TERRa.json")
    assert "7b58f24536063837d644aab9a023c62199b2a612" in terra.message  # the file's revision
    assert "48312c334eb916d88481dc4a41bd0d8b2fa0d576" in terra.message  # the pinned one
    # folders older than mteb 2 pass as published history, one warning each (7 revision folders)
    assert len([p for p in report.warnings if "historic" in p.message]) == 7


def test_a_modern_folder_passes_and_the_cli_prints_the_folder_to_copy(
    modern: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _errors(modern.parent.parent) == []
    assert main(["check", str(modern.parent.parent), "-b", "ruMTEB"]) == 0
    out = capsys.readouterr().out
    assert "READY for the ruMTEB leaderboard (0 errors, 6 warnings)" in out
    assert f"rsync -a --exclude '*.rumteb' --exclude '.*' {modern.parent} RESULTS_REPO/results/" in out


def _delete_task(folder: Path) -> None:
    (folder / "TERRa.json").unlink()


def _drop_split(folder: Path) -> None:
    path = folder / "MassiveIntentClassification.json"
    data = json.loads(path.read_text())
    del data["scores"]["validation"]
    path.write_text(json.dumps(data))


def _drop_russian_subset(folder: Path) -> None:
    path = folder / "STS22.json"
    data = json.loads(path.read_text())
    data["scores"]["test"] = [e for e in data["scores"]["test"] if e["hf_subset"] != "ru"]
    path.write_text(json.dumps(data))


def _nan_score(folder: Path) -> None:
    path = folder / "RuBQRetrieval.json"
    text = path.read_text()
    data = json.loads(text)
    data["scores"]["test"][0]["ndcg_at_10"] = float("nan")
    path.write_text(json.dumps(data))  # Python writes NaN, as a crashed evaluator's json.dump would


def _not_json(folder: Path) -> None:
    (folder / "GeoreviewClassification.json").write_text('{"scores": ')


def _no_model_meta(folder: Path) -> None:
    (folder / "model_meta.json").unlink()


def _meta(**update: object) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        path = folder / "model_meta.json"
        meta = json.loads(path.read_text())
        meta.update(update)
        path.write_text(json.dumps(meta))

    return mutate


def _local_model(folder: Path) -> None:
    target = folder.parent.parent / "local__my-model" / folder.name
    shutil.move(str(folder.parent), str(target.parent))
    _meta(name="local/my-model")(target)


def _not_a_commit(folder: Path) -> None:
    target = folder.parent / "my-run"
    folder.rename(target)
    _meta(revision="my-run")(target)


def _no_mteb_version(folder: Path) -> None:
    path = folder / "KinopoiskClassification.json"
    data = json.loads(path.read_text())
    del data["mteb_version"]
    path.write_text(json.dumps(data))


def _no_run_settings(folder: Path) -> None:
    (folder / "run_settings.jsonl").unlink()


def _run_settings_lacks_a_task(folder: Path) -> None:
    path = folder / "run_settings.jsonl"
    lines = [line for line in path.read_text().splitlines() if '"RuBQReranking"' not in line]
    path.write_text("\n".join(lines) + "\n")


def _run_settings_old_mteb(folder: Path) -> None:
    path = folder / "run_settings.jsonl"
    path.write_text(path.read_text().replace('"2.26.24"', '"1.38.0"'))


MUTATIONS = {
    "a task missing": (
        _delete_task,
        "have no result: TERRa",
        "rumteb run -m intfloat/multilingual-e5-small -t TERRa",
    ),
    "a split missing": (_drop_split, "no main score for validation/ru", "-t MassiveIntentClassification"),
    "the Russian subset missing": (_drop_russian_subset, "no main score for test/ru", "-t STS22"),
    "a NaN score": (_nan_score, "must be a number between -1 and 1. Got nan", "-t RuBQRetrieval"),
    "a file not JSON": (_not_json, "not valid UTF-8 JSON", "-t GeoreviewClassification"),
    "no model_meta.json": (
        _no_model_meta,
        "no model_meta.json",
        "rumteb run -m intfloat/multilingual-e5-small",
    ),
    "model_meta.json without name": (_meta(name=""), "has no 'name'", "rumteb run -m"),
    "model_meta.json of another model": (
        _meta(name="intfloat/e5-large"),
        "names the model 'intfloat/e5-large'",
        "move",
    ),
    "model_meta.json of another revision": (
        _meta(revision="a" * 40),
        f"but the folder is '{E5_REVISION}'",
        "move",
    ),
    "a revision that is no commit": (
        _not_a_commit,
        "'my-run' is not a Hub commit",
        "--model-revision COMMIT",
    ),
    "a file without mteb version": (
        _no_mteb_version,
        "(KinopoiskClassification)",
        "--overwrite-strategy always",
    ),
    "no run_settings.jsonl": (_no_run_settings, "no run_settings.jsonl", "--overwrite-strategy always"),
    "run settings lacking a task": (
        _run_settings_lacks_a_task,
        "for RuBQReranking test/default",
        "rumteb run",
    ),
    "run settings of mteb 1": (
        _run_settings_old_mteb,
        "mteb version > 2.0.0 for CEDRClassification",
        "rumteb run",
    ),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_each_mutation_is_caught_with_its_fix(
    name: str, modern: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mutate, message, fix = MUTATIONS[name]
    root = modern.parent.parent
    mutate(modern)
    errors = _errors(root)
    assert len(errors) == 1, errors
    (error,) = errors
    head, _, tail = error.partition(" Fix: ")
    assert message in head and fix in tail
    assert main(["check", str(root)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == error  # errors first, one line each
    assert lines[-1].startswith("NOT READY for the ruMTEB leaderboard: 1 error,")


def test_a_local_model_is_refused_and_needs_a_model_meta_in_mteb(modern: Path) -> None:
    _local_model(modern)
    report = check_results(modern.parent.parent)
    local, registry = report.errors
    assert "'local/my-model' is a local folder" in local.message and "upload the model" in local.fix
    assert "'local/my-model' is not in mteb's model registry" in registry.message
    assert list(report.model_meta_blocks) == ["local/my-model"]


def test_a_changed_dataset_revision_is_a_warning_naming_both(modern: Path) -> None:
    path = modern / "RuSciBenchOECDClassification.json"
    data = json.loads(path.read_text())
    pinned = "26c88e99dcaba32bb45d0e1bfc21902337f6d471"
    assert data["dataset_revision"] == pinned
    data["dataset_revision"] = "0" * 40
    path.write_text(json.dumps(data))
    report = check_results(modern)  # a revision folder works too
    assert report.ok
    (warning,) = [p for p in report.warnings if p.where == path]
    assert f"dataset revision {'0' * 40}, not the pinned {pinned}" in warning.message


def test_v1_1_needs_its_own_tasks(modern: Path) -> None:
    report = check_results(modern.parent, "ruMTEB(v1.1)")
    (error,) = report.errors
    assert "MIRACLRetrievalHardNegatives.v2, RiaNewsRetrievalHardNegatives.v2" in error.message


def test_bad_arguments(tmp_path: Path, modern: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(LookupError, match=r"Unknown benchmark 'ruMTEB\(v2\)'. Did you mean"):
        check_results(modern, "ruMTEB(v2)")
    with pytest.raises(ResultsError, match="No ruMTEB result files under"):
        (tmp_path / "empty").mkdir()
        check_results(tmp_path / "empty")
    assert main(["check", str(tmp_path / "nowhere")]) == 1
    assert "must be an existing results folder. Got" in capsys.readouterr().err


def test_a_rumteb_run_of_a_local_folder_is_checked_as_written(tiny_model_path: Path, tmp_path: Path) -> None:
    """What rumteb run writes (mteb 2 files, model_meta.json, run_settings.jsonl) passes those checks; a local
    model (not in mteb's registry either) and the 22 tasks not run are the only errors."""
    from _helpers import TERRA_ROWS, mirror_for_task

    mirror = tmp_path / "mirror"
    mirror_for_task(mirror, "TERRa", {"default": TERRA_ROWS})
    out = tmp_path / "out"
    argv = ["run", "-m", str(tiny_model_path), "-t", "TERRa", "--data-dir", str(mirror)]
    assert main([*argv, "--output-folder", str(out), "--device", "cpu"]) == 0
    report = check_results(out)
    assert [p.message.split(":")[0] for p in report.errors] == [
        "the model 'local/tiny-bert' is a local folder",
        "22 of the 23 ruMTEB tasks have no result",
        "the model 'local/tiny-bert' is not in mteb's model registry",
    ]
    assert report.warnings == []
