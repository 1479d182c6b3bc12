"""``rumteb check [--against CLONE]``: the results repository's CI rules, run on copies of the published results.

The published results (../shared/data/published/results) are laid out as the results repository is, so they serve
as its clone; a copy of them, changed, is the submission.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from rumteb.cli import main
from rumteb.errors import ParameterError
from rumteb.reporting import submission
from rumteb.reporting.check import check_results
from rumteb.reporting.result_file import read_task_result

E5 = "intfloat__multilingual-e5-small/fd1525a9fd15316a2d503bf26ab031a61d056e98"


@pytest.fixture(scope="module")
def clone(shared_data: Path) -> Path:
    return shared_data / "published" / "results"


@pytest.fixture
def copy(clone: Path, tmp_path: Path) -> Path:
    """A writable copy of the six published models (the shared files are read-only)."""
    target = tmp_path / "submission" / "results"
    shutil.copytree(clone, target, copy_function=shutil.copyfile)
    for folder, _, _ in os.walk(target):
        os.chmod(folder, 0o755)
    return target


def _edit(path: Path, change: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(json.dumps(data), encoding="utf-8")


def _move_terra(by: float) -> object:
    def change(data: dict) -> None:
        entry = data["scores"]["dev"][0]
        for key in ("main_score", "max_ap"):  # a re-run changes the metric and mteb's copy of it alike
            entry[key] += by

    return change


def _errors(copy: Path, clone: Path) -> list[str]:
    return [str(p) for p in check_results(copy, against=clone).errors]


def test_an_unmodified_copy_passes_and_adds_nothing(copy: Path, clone: Path) -> None:
    report = check_results(copy, against=clone)
    assert report.ok and report.model_meta_blocks == {}  # all six are in mteb's registry
    alone = check_results(copy)
    assert [str(p) for p in report.problems] == [str(p) for p in alone.problems]


def test_a_moved_score_and_a_removed_split_fail_naming_both(
    copy: Path, clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(copy / E5 / "TERRa.json", _move_terra(0.002))
    _edit(copy / E5 / "MassiveIntentClassification.json", lambda d: d["scores"].pop("validation"))
    errors = _errors(copy, clone)
    (moved,) = [e for e in errors if "main score moved" in e]
    assert moved.startswith(f"ERROR {copy / E5 / 'TERRa.json'}: ")
    assert "dev/default 0.5751 -> 0.5771 (+0.0020) (tests/test_results_diff.py)" in moved
    (removed,) = [e for e in errors if "(tests/test_no_splits_are_removed.py)" in e]
    assert (
        f"{copy / E5 / 'MassiveIntentClassification.json'}: removes split validation (all 51 subsets)"
        in removed
    )
    # the leaderboard's own check names the split too; nothing else fails
    assert len(errors) == 3 and "no main score for validation/ru" in " ".join(errors)
    assert main(["check", str(copy), "--against", str(clone)]) == 1
    out = capsys.readouterr().out
    assert "main score moved" in out and "removes split validation" in out
    assert out.splitlines()[-1] == "NOT READY for the ruMTEB leaderboard: 3 errors, 43 warnings."


def test_a_score_within_0_001_passes(copy: Path, clone: Path) -> None:
    _edit(copy / E5 / "TERRa.json", _move_terra(0.0005))
    assert _errors(copy, clone) == []


def test_a_removed_subset_and_language_are_named(copy: Path, clone: Path) -> None:
    def drop(data: dict) -> None:
        data["scores"]["test"] = [e for e in data["scores"]["test"] if e["hf_subset"] != "de-en"]
        (zh_en,) = [e for e in data["scores"]["test"] if e["hf_subset"] == "zh-en"]
        zh_en["languages"] = ["cmn-Hans"]

    _edit(copy / E5 / "STS22.json", drop)
    (subset, language) = _errors(copy, clone)
    assert "removes split/subset test/de-en" in subset
    assert "removes languages (test/zh-en: eng-Latn)" in language
    assert "(tests/test_no_languages_are_removed.py)" in language


def test_a_new_revision_of_mteb_1_files_is_refused_against_the_repository(copy: Path, clone: Path) -> None:
    old = copy / E5
    new = old.parent / ("0" * 40)
    old.rename(new)
    assert check_results(copy).ok  # without the repository: published history, a warning
    (duplicate, version) = _errors(copy, clone)
    assert duplicate.startswith(f"ERROR {new}: 23 tasks have results under another revision of the model")
    assert (
        f"(CEDRClassification in {old.name}, " in duplicate
        and "(tests/test_duplicate_results.py)" in duplicate
    )
    assert version.startswith(f"ERROR {new}: 23 result files are not in the results repository yet (CEDR")
    assert (
        "come from mteb <= 2.0.0" in version and "rumteb run -m intfloat/multilingual-e5-small -t" in version
    )


def test_a_file_over_10_mb_is_named(copy: Path) -> None:
    path = copy / E5 / "GeoreviewClassification.json"
    _edit(path, lambda d: d.update(padding="x" * (10 * 1024 * 1024)))
    (error,) = [str(p) for p in check_results(copy).errors]
    assert error.startswith(f"ERROR {path}: is 10.0 MB; the results repository takes no file over 10 MB")
    assert path.stat().st_size > submission.MAX_FILE_BYTES


def test_task_names_that_are_not_the_file_name_are_named(copy: Path) -> None:
    (copy / E5 / "TERRa.json").rename(copy / E5 / "TERRA.json")
    _edit(copy / E5 / "STS22.json", lambda d: d.update(task_name="STS22.v2"))
    errors = [str(p) for p in check_results(copy).errors]
    assert len(errors) == 3 and "1 of the 23 ruMTEB tasks have no result: TERRa." in errors[0]
    assert errors[1:] == [
        f"ERROR {copy / E5 / 'STS22.json'}: holds task 'STS22.v2' but is named STS22.json "
        "(tests/test_task_name_matches_filename.py). Fix: rename the file to STS22.v2.json, or keep only the "
        "task its name says.",
        f"ERROR {copy / E5 / 'TERRA.json'}: holds task 'TERRa' but is named TERRA.json "
        "(tests/test_task_name_matches_filename.py). Fix: rename the file to TERRa.json, or keep only the task "
        "its name says.",
    ]


def test_main_scores_read_as_the_repository_reads_them_equal_rumtebs_reader(clone: Path) -> None:
    """Differential: mteb's TaskResult (the repository's test) against rumteb's own reader, every published file."""
    files = sorted(clone.glob("*/*/*.json"))
    assert len(files) == 138
    for path in files:
        ours = read_task_result(path).scores
        theirs = submission.main_scores(json.loads(path.read_text(encoding="utf-8")))
        assert theirs.keys() == ours.keys(), path
        assert all(abs(theirs[k] - ours[k]) < 1e-12 for k in ours), path


def test_bad_paths_end_in_one_error_line(
    copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ParameterError, match="The 'against' parameter of check_results must be a clone"):
        check_results(copy, against=tmp_path / "nowhere")
    assert main(["check", str(copy), "--against", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rumteb: error: The '--against' option must be a clone of the results repository")
    assert len(err.strip().splitlines()) == 1
    assert main(["check", str(copy), "--model-meta-out", str(tmp_path / "no" / "meta.py")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("rumteb: error: The '--model-meta-out' option must be a file in an existing folder")
    assert len(err.splitlines()) == 1
