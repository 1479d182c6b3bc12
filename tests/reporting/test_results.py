"""Reading mteb result files, ruMTEB aggregation and summary tables, against the published official results.

Expected numbers are computed here from ``published/scores.csv`` (and, for Massive's validation split, which
the CSV does not list, straight from the JSON files), with code that shares nothing with ``rumteb.reporting.results``.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rumteb.reporting import leaderboard, result_file, results, table
from rumteb.reporting.result_file import ResultsError

E5 = "intfloat__multilingual-e5-small"
E5_REVISION = "fd1525a9fd15316a2d503bf26ab031a61d056e98"
HEADER = (
    "model,Classification,Clustering,MultilabelClassification,PairClassification,Reranking,Retrieval,STS,"
    "Mean(Task),Mean(TaskType)"
)
# Written out by hand from the ruMTEB paper, independently of rumteb's task metadata.
TYPE_OF = {
    **dict.fromkeys(
        [
            "GeoreviewClassification",
            "HeadlineClassification",
            "InappropriatenessClassification",
            "KinopoiskClassification",
            "MassiveIntentClassification",
            "MassiveScenarioClassification",
            "RuReviewsClassification",
            "RuSciBenchGRNTIClassification",
            "RuSciBenchOECDClassification",
        ],
        "Classification",
    ),
    **dict.fromkeys(
        ["GeoreviewClusteringP2P", "RuSciBenchGRNTIClusteringP2P", "RuSciBenchOECDClusteringP2P"],
        "Clustering",
    ),
    **dict.fromkeys(["CEDRClassification", "SensitiveTopicsClassification"], "MultilabelClassification"),
    "TERRa": "PairClassification",
    **dict.fromkeys(["MIRACLReranking", "RuBQReranking"], "Reranking"),
    **dict.fromkeys(["MIRACLRetrieval", "RiaNewsRetrieval", "RuBQRetrieval"], "Retrieval"),
    **dict.fromkeys(["RUParaPhraserSTS", "STS22", "RuSTSBenchmarkSTS"], "STS"),
}


# --- independent expected values ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(shared_data: Path) -> Path:
    return shared_data / "published"


@pytest.fixture(scope="module")
def csv_rows(published: Path) -> list[dict[str, str]]:
    with (published / "scores.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def expected(published: Path, csv_rows: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    """model -> {"tasks": task -> score, "types": type -> mean, "mean_task", "mean_task_type"} (0-1 scale)."""
    tasks: dict[str, dict[str, float]] = defaultdict(dict)
    for row in csv_rows:
        values = [float(row["main_score"])]
        if row["task"].startswith("Massive"):  # ruMTEB averages validation and test; the CSV lists test only
            file = published / row["source_path"].split(":", 1)[1]
            entries = json.loads(file.read_text(encoding="utf-8"))["scores"]["validation"]
            (entry,) = [e for e in entries if e["hf_subset"] == row["subset"]]
            values.append(entry[row["main_score_name"]])
        tasks[row["model"]][row["task"]] = sum(values) / len(values)
    out = {}
    for model, scores in tasks.items():
        assert sorted(scores) == sorted(TYPE_OF), model
        types = {
            kind: statistics.mean(v for t, v in scores.items() if TYPE_OF[t] == kind)
            for kind in dict.fromkeys(TYPE_OF.values())
        }
        out[model] = {
            "tasks": scores,
            "types": types,
            "mean_task": statistics.mean(scores.values()),
            "mean_task_type": statistics.mean(types.values()),
        }
    return out


@pytest.fixture(scope="module")
def models(published: Path) -> dict[str, results.ModelScores]:
    return {m.model: m for m in results.load_results(published)}


def _copy_model(published: Path, target: Path, folder: str = E5) -> Path:
    """A copy of one published model folder under ``target/results/``; returns the copy's revision folder."""
    shutil.copytree(published / "results" / folder, target / "results" / folder)
    (revision,) = [p for p in (target / "results" / folder).iterdir() if p.is_dir()]
    return revision


# --- the published results ----------------------------------------------------------------------------------


def test_published_models_are_all_read(models: dict[str, results.ModelScores], expected: dict) -> None:
    assert sorted(models) == sorted(expected)
    assert all(len(m.tasks) == 23 and not m.skipped for m in models.values())
    assert models["ai-forever/ru-en-RoSBERTa"].revisions == [
        "89fb1651989adbb1cfcfdedafd7d102951ad0555",
        "external",
    ]


@pytest.mark.parametrize(
    "model",
    [
        "ai-forever/ru-en-RoSBERTa",
        "ai-forever/sbert_large_mt_nlu_ru",
        "ai-forever/sbert_large_nlu_ru",
        "cointegrated/LaBSE-en-ru",
        "cointegrated/rubert-tiny2",
        "intfloat/multilingual-e5-small",
    ],
)
def test_published_scores_match_an_independent_computation(
    model: str, models: dict[str, results.ModelScores], expected: dict
) -> None:
    want = expected[model]
    got = leaderboard.score_benchmark(models[model])
    assert got.missing == {}
    assert got.tasks == pytest.approx(want["tasks"], abs=1e-12)
    assert got.types == pytest.approx(want["types"], abs=1e-12)
    assert got.mean_task == pytest.approx(want["mean_task"], abs=1e-12)
    assert got.mean_task_type == pytest.approx(want["mean_task_type"], abs=1e-12)
    (row,) = leaderboard.summary_table([models[model]])
    assert row["model"] == model
    for kind, value in want["types"].items():
        assert row[kind] == round(100 * value, 2)
    assert row["Mean(Task)"] == round(100 * want["mean_task"], 2)
    assert row["Mean(TaskType)"] == round(100 * want["mean_task_type"], 2)


def test_published_means_pinned(models: dict[str, results.ModelScores]) -> None:
    rows = {
        r["model"]: (r["Mean(Task)"], r["Mean(TaskType)"])
        for r in leaderboard.summary_table(list(models.values()))
    }
    assert rows == {
        "ai-forever/ru-en-RoSBERTa": (61.71, 60.40),
        "ai-forever/sbert_large_mt_nlu_ru": (48.75, 45.38),
        "ai-forever/sbert_large_nlu_ru": (45.38, 41.19),
        "cointegrated/LaBSE-en-ru": (48.20, 45.88),
        "cointegrated/rubert-tiny2": (42.41, 39.35),
        "intfloat/multilingual-e5-small": (57.21, 57.02),
    }


def test_each_score_comes_from_the_file_scores_csv_names(
    models: dict[str, results.ModelScores], csv_rows: list[dict[str, str]], published: Path
) -> None:
    for row in csv_rows:
        result = models[row["model"]].tasks[row["task"]]
        assert result.path.relative_to(published).as_posix() == row["source_path"].split(":", 1)[1]
        # Old metric names ('map', 'NDCG@10(MIRACL)') are read as the task's main score.
        assert result.scores[(row["split"], row["subset"])] == float(row["main_score"]), row


def test_task_scores_match_mteb_task_result(models: dict[str, results.ModelScores]) -> None:
    """Reference: mteb's own reader, restricted to Russian, on the same files."""
    from mteb.results import TaskResult

    for model in models.values():
        got = leaderboard.score_benchmark(model).tasks
        for task, result in model.tasks.items():
            splits = ["test"] if task == "RuSTSBenchmarkSTS" else None
            reference = TaskResult.from_disk(result.path).get_score(splits=splits, languages=["rus"])
            assert got[task] == pytest.approx(reference, abs=1e-12), (model.model, task)


def test_v1_1_lists_the_two_new_tasks_as_missing(models: dict[str, results.ModelScores]) -> None:
    scores = leaderboard.score_benchmark(models["intfloat/multilingual-e5-small"], "ruMTEB(v1.1)")
    assert set(scores.missing) == {"MIRACLRetrievalHardNegatives.v2", "RiaNewsRetrievalHardNegatives.v2"}
    assert scores.types["Retrieval"] is None and scores.mean_task is None and scores.mean_task_type is None
    assert scores.types["STS"] is not None


def test_unknown_benchmark_is_a_lookup_error(models: dict[str, results.ModelScores]) -> None:
    with pytest.raises(LookupError, match="Unknown benchmark 'rumteb'"):
        leaderboard.score_benchmark(next(iter(models.values())), "rumteb")


# --- tables -------------------------------------------------------------------------------------------------


def test_csv_has_exactly_the_leaderboard_header(models: dict[str, results.ModelScores]) -> None:
    text = table.format_table(leaderboard.summary_table(list(models.values())), "csv")
    lines = text.splitlines()
    assert lines[0] == HEADER
    assert len(lines) == 7
    assert list(leaderboard.summary_table(list(models.values()))[0]) == HEADER.split(",")


def test_formats(models: dict[str, results.ModelScores]) -> None:
    rows = leaderboard.summary_table([models["intfloat/multilingual-e5-small"]])
    md = table.format_table(rows, "md")
    assert md.splitlines()[0] == "| " + HEADER.replace(",", " | ") + " |"
    assert "| intfloat/multilingual-e5-small | 55.18 |" in md
    assert json.loads(table.format_table(rows, "json")) == rows
    latex = table.format_table(rows, "latex", notes=["a note"])
    assert r"\begin{tabular}{lrrrrrrrrr}" in latex and "multilingual-e5-small & 55.18" in latex
    assert latex.rstrip().endswith("% a note")
    assert table.format_table([{"model": "a_b & c", "STS": None}], "latex").count(r"a\_b \& c & n/a \\") == 1
    with pytest.raises(ValueError, match=r"The 'fmt' parameter of format_table must be one of .* Got 'xlsx'"):
        table.format_table(rows, "xlsx")
    with pytest.raises(ValueError, match="The 'notes' parameter of format_table must be empty"):
        table.format_table(rows, "csv", notes=["x"])


# --- missing and unreadable results -------------------------------------------------------------------------


def test_a_removed_task_is_missing_and_empties_the_means(published: Path, tmp_path: Path) -> None:
    revision = _copy_model(published, tmp_path)
    (revision / "TERRa.json").unlink()
    (model,) = results.load_results(tmp_path)
    scores = leaderboard.score_benchmark(model)
    assert scores.missing == {"TERRa": "no result file"}
    assert scores.tasks["TERRa"] is None
    assert scores.types["PairClassification"] is None
    assert scores.mean_task is None and scores.mean_task_type is None
    assert all(scores.types[t] is not None for t in scores.types if t != "PairClassification")
    (row,) = leaderboard.summary_table([model])
    notes = leaderboard.table_notes([model])
    assert notes == ["model intfloat/multilingual-e5-small: 1 of 23 tasks missing: TERRa"]
    lines = table.format_table([row], "csv").splitlines()
    assert lines[1].split(",")[4] == "" and lines[1].endswith(",,")
    md = table.format_table([row], "md", notes=notes)
    assert "| n/a |" in md and md.rstrip().endswith("- " + notes[0])


def test_a_missing_split_makes_the_task_missing(published: Path, tmp_path: Path) -> None:
    revision = _copy_model(published, tmp_path)
    file = revision / "MassiveIntentClassification.json"
    data = json.loads(file.read_text(encoding="utf-8"))
    del data["scores"]["validation"]
    file.write_text(json.dumps(data), encoding="utf-8")
    (model,) = results.load_results(tmp_path)
    scores = leaderboard.score_benchmark(model)
    assert list(scores.missing) == ["MassiveIntentClassification"]
    assert "validation/ru" in scores.missing["MassiveIntentClassification"]
    assert scores.types["Classification"] is None


def test_invalid_json_raises_naming_the_file(published: Path, tmp_path: Path) -> None:
    revision = _copy_model(published, tmp_path)
    bad = revision / "STS22.json"
    bad.write_text(bad.read_text(encoding="utf-8")[:500], encoding="utf-8")
    with pytest.raises(ResultsError, match="not valid UTF-8 JSON") as err:
        results.load_results(tmp_path)
    assert str(bad) in str(err.value)
    assert isinstance(err.value, ValueError)


def test_skip_reports_the_unreadable_file(published: Path, tmp_path: Path) -> None:
    revision = _copy_model(published, tmp_path)
    bad = revision / "STS22.json"
    bad.write_text("{", encoding="utf-8")
    (model,) = results.load_results(tmp_path, errors="skip")
    assert list(model.skipped) == [bad]
    scores = leaderboard.score_benchmark(model)
    assert str(bad) in scores.missing["STS22"]
    notes = leaderboard.table_notes([model])
    assert notes[0] == "model intfloat/multilingual-e5-small: 1 of 23 tasks missing: STS22"
    assert (
        notes[1].startswith("model intfloat/multilingual-e5-small: unreadable file skipped: ")
        and str(bad) in notes[1]
    )
    with pytest.raises(ValueError, match="The 'errors' parameter of load_results must be 'raise' or 'skip'"):
        results.load_results(tmp_path, errors="ignore")


def test_bad_paths_raise(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="must be existing result folders"):
        results.load_results(tmp_path / "nope")
    (tmp_path / "results" / "org__m" / "rev").mkdir(parents=True)
    (tmp_path / "results" / "org__m" / "rev" / "NotARuMTEBTask.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ResultsError, match="No ruMTEB result files under"):
        results.load_results(tmp_path)


# --- layouts, revisions, formats ----------------------------------------------------------------------------


def test_every_level_of_the_layout_is_accepted(published: Path, tmp_path: Path) -> None:
    revision = _copy_model(published, tmp_path)
    (tmp_path / "results" / E5 / "experiments").mkdir()  # not a revision: no JSON inside
    for path in [tmp_path, tmp_path / "results", tmp_path / "results" / E5, revision, str(revision)]:
        (model,) = results.load_results(path)
        assert model.model == "intfloat/multilingual-e5-small" and len(model.tasks) == 23


def test_model_meta_names_the_model(published: Path, tmp_path: Path) -> None:
    revision = _copy_model(published, tmp_path)
    (revision / "model_meta.json").write_text(json.dumps({"name": "intfloat/e5 small"}), encoding="utf-8")
    assert [m.model for m in results.load_results(tmp_path)] == ["intfloat/e5 small"]
    (revision / "model_meta.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ResultsError, match=r"model_meta\.json"):
        results.load_results(tmp_path)


def test_named_revision_wins_over_external(published: Path, tmp_path: Path) -> None:
    revision = _copy_model(published, tmp_path)
    external = revision.parent / "external"
    external.mkdir()
    data = json.loads((revision / "TERRa.json").read_text(encoding="utf-8"))
    data["mteb_version"] = "9.9.9"
    data["scores"]["dev"][0]["max_ap"] = 0.123
    (external / "TERRa.json").write_text(json.dumps(data), encoding="utf-8")
    (model,) = results.load_results(tmp_path)
    assert model.tasks["TERRa"].revision == E5_REVISION
    (revision / "TERRa.json").unlink()
    (model,) = results.load_results(tmp_path)
    assert model.tasks["TERRa"].revision == "external"
    assert model.tasks["TERRa"].scores[("dev", "default")] == 0.123


def _write(tmp_path: Path, data: Any, name: str = "TERRa.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_metric_resolution(tmp_path: Path) -> None:
    entry = {"hf_subset": "default", "map_at_1000": 0.7, "map": 0.6, "main_score": 0.5}
    path = _write(tmp_path, {"task_name": "RuBQReranking", "scores": {"test": [entry]}}, "RuBQReranking.json")
    assert result_file.read_task_result(path).scores == {("test", "default"): 0.7}
    del entry["map_at_1000"]
    _write(tmp_path, {"scores": {"test": [entry]}}, "RuBQReranking.json")
    assert result_file.read_task_result(path).scores == {("test", "default"): 0.6}
    del entry["map"]
    _write(tmp_path, {"scores": {"test": [entry]}}, "RuBQReranking.json")
    assert result_file.read_task_result(path).scores == {("test", "default"): 0.5}
    del entry["main_score"]
    _write(tmp_path, {"scores": {"test": [entry]}}, "RuBQReranking.json")
    with pytest.raises(ResultsError, match=r"has no 'map_at_1000' or 'map' or 'main_score' score"):
        result_file.read_task_result(path)


def test_mteb_before_1_11_format(tmp_path: Path) -> None:
    old = {
        "mteb_dataset_name": "TERRa",
        "mteb_version": "1.1.0",
        "dev": {"cos_sim": {"ap": 0.5}, "max": {"ap": 0.61}, "evaluation_time": 3.2},
    }
    assert result_file.read_task_result(_write(tmp_path, old)).scores == {("dev", "default"): 0.61}
    multilingual = {
        "mteb_dataset_name": "STS22",
        "test": {"ru": {"cos_sim": {"spearman": 0.66}}, "evaluation_time": 1},
    }
    path = _write(tmp_path, multilingual, "STS22.json")
    assert result_file.read_task_result(path).scores == {("test", "ru"): 0.66}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "the top level must be a JSON object. Got []"),
        ({"task_name": "TERRa"}, "has no 'scores'"),
        ({"task_name": "STS22", "scores": {}}, "holds task 'STS22' but is named TERRa.json"),
        ({"task_name": 5, "scores": {}}, "'task_name' must be a string or null. Got 5"),
        ({"scores": []}, "'scores' must be an object of splits"),
        ({"scores": {"dev": {}}}, "scores['dev'] must be a list"),
        ({"scores": {"dev": [{"max_ap": 0.5}]}}, "scores['dev'][0]['hf_subset'] must be a string. Got None"),
        (
            {"scores": {"dev": [{"hf_subset": "default", "max_ap": "0.5"}]}},
            "must be a number between -1 and 1",
        ),
        ({"scores": {"dev": [{"hf_subset": "default", "max_ap": True}]}}, "Got True instead"),
        (
            {"scores": {"dev": [{"hf_subset": "default", "max_ap": 10**400}]}},
            "must be a number between -1 and 1",
        ),
        ({"scores": {"dev": [{"hf_subset": "default", "max_ap": 1.5}]}}, "Got 1.5 instead"),
        ({"scores": {"dev": [{"hf_subset": "default", "max_ap": 0.5}] * 2}}, "has subset 'default' twice"),
    ],
)
def test_malformed_files_raise_results_error(tmp_path: Path, data: Any, message: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(ResultsError) as err:
        result_file.read_task_result(path)
    assert message in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "NaN",
        '{"scores": {"dev": [{"hf_subset": "default", "max_ap": Infinity}]}}',
        "[" * 100_000,
        "1" * 5000,
    ],
)
def test_hostile_text_raises_results_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "TERRa.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ResultsError, match=r"TERRa\.json"):
        result_file.read_task_result(path)


# --- fuzzing the single-file reader -------------------------------------------------------------------------

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
_SCORES = st.integers(min_value=10**300, max_value=10**400) | st.floats() | st.integers(-3, 3) | _SCALARS
_JSON = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=12,
)


def _maybe(valid: Any, other: st.SearchStrategy[Any] = _JSON) -> st.SearchStrategy[Any]:
    """Mostly ``valid``, sometimes ``other``: most examples then get deep before one part goes wrong."""
    return st.integers(0, 5).flatmap(lambda i: other if i == 0 else st.just(valid))


@st.composite
def _mutated_results(draw: st.DrawFn) -> Any:
    """A valid TERRa result with any part replaced by arbitrary JSON (wrong types, huge numbers, unicode)."""
    entry = {
        "hf_subset": draw(_maybe("default")),
        "max_ap": draw(st.just(0.5) | _SCORES),
        "main_score": draw(_maybe(0.5, _SCORES)),
    }
    if draw(st.booleans()):
        entry[draw(st.text(max_size=12))] = draw(_JSON)
    split = draw(st.sampled_from(["dev", "test"]) | st.text(max_size=8))
    scores = {split: draw(_maybe([draw(_maybe(entry))]))}
    if draw(st.booleans()):
        scores[draw(st.text(max_size=8))] = draw(_maybe([entry]))
    document = {
        "task_name": draw(_maybe("TERRa")),
        "mteb_version": draw(_maybe("1.18.0")),
        "dataset_revision": draw(_maybe("7b58f24536063837d644aab9a023c62199b2a612")),
        "scores": draw(_maybe(scores)),
    }
    return draw(_maybe(document))


def _check_reader(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    try:
        result = result_file.read_task_result(path)
    except ResultsError as err:
        assert str(path) in str(err)
    else:
        assert all(-1 <= v <= 1 for v in result.scores.values())


_FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,  # nothing written into the checkout
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@_FUZZ
@given(data=_mutated_results())
def test_fuzz_wrong_types_and_huge_numbers(tmp_path: Path, data: Any) -> None:
    _check_reader(tmp_path / "TERRa.json", json.dumps(data, ensure_ascii=False).encode("utf-8"))


@_FUZZ
@given(text=st.text(), raw=st.binary(max_size=64), name=st.sampled_from(["TERRa.json", "Unknown.json"]))
def test_fuzz_arbitrary_unicode_and_bytes(tmp_path: Path, text: str, raw: bytes, name: str) -> None:
    _check_reader(tmp_path / name, text.encode("utf-8"))
    _check_reader(tmp_path / name, raw)


@_FUZZ
@given(task=st.sampled_from(["TERRa", "STS22", "RuBQReranking", "MIRACLReranking"]), cut=st.floats(0, 1))
def test_fuzz_truncated_published_files(shared_data: Path, tmp_path: Path, task: str, cut: float) -> None:
    source = shared_data / "published" / "results" / E5 / E5_REVISION / f"{task}.json"
    content = source.read_bytes()
    _check_reader(tmp_path / f"{task}.json", content[: int(cut * len(content))])


def test_csv_round_trips(models: dict[str, results.ModelScores]) -> None:
    rows = leaderboard.summary_table(list(models.values()))
    parsed = list(csv.DictReader(io.StringIO(table.format_table(rows, "csv"))))
    assert [r["model"] for r in parsed] == [r["model"] for r in rows]
    assert all(float(p["Mean(Task)"]) == r["Mean(Task)"] for p, r in zip(parsed, rows, strict=True))
