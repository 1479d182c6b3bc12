"""The leaderboard's summary table offline (`rumteb.reporting.ranking`) against mteb's own
``Benchmark._create_summary_table`` on the same results, read by mteb: the six published models, a copy of one under
another registered name (a tie in every task), a registered copy with missing tasks and a missing split, and two
local runs of a tiny model (registered into mteb's registry only for mteb's side, from their model_meta.json)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from _helpers import STSB_ROWS, TERRA_ROWS, mirror_for_task

from rumteb.cli import main
from rumteb.reporting import ranking, results

E5 = "intfloat__multilingual-e5-small"
TIE = "intfloat/multilingual-e5-base"  # registered in mteb; holds e5-small's scores here: a tie everywhere
GAPS = "intfloat/multilingual-e5-large"  # registered; two tasks removed, one split of a third removed
LOCAL = ("local/tiny-bert", "local/tiny-st")


@pytest.fixture(scope="module")
def folders(shared_data: Path, _tiny_model_session: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("board")
    shutil.copytree(shared_data / "published" / "results", root / "results")
    for name in (TIE, GAPS):
        shutil.copytree(root / "results" / E5, root / "results" / name.replace("/", "__"))
    (gaps,) = (root / "results" / GAPS.replace("/", "__")).iterdir()
    (gaps / "TERRa.json").unlink()
    (gaps / "RuBQRetrieval.json").unlink()
    massive = json.loads((gaps / "MassiveIntentClassification.json").read_text(encoding="utf-8"))
    del massive["scores"]["validation"]  # partial: out of the means, in the Borda count with its test split
    (gaps / "MassiveIntentClassification.json").write_text(json.dumps(massive), encoding="utf-8")
    # two local runs on two tasks: rumteb's encoder (declaring training data), sentence-transformers (declaring none)
    mirror = root / "mirror"
    mirror_for_task(mirror, "TERRa", {"default": TERRA_ROWS})
    mirror_for_task(mirror, "RuSTSBenchmarkSTS", {"default": STSB_ROWS})
    argv = [
        "run",
        "-t",
        "TERRa",
        "RuSTSBenchmarkSTS",
        "--data-dir",
        str(mirror),
        "--output-folder",
        str(root),
    ]
    argv += ["--device", "cpu"]
    bert = root / "models" / "tiny-bert"
    shutil.copytree(_tiny_model_session, bert)
    assert main([*argv, "-m", str(bert), "--encoder", "rumteb", "--training-datasets", "TERRa", "XNLI"]) == 0
    st_copy = root / "models" / "tiny-st"
    shutil.copytree(_tiny_model_session, st_copy)
    assert main([*argv, "-m", str(st_copy), "--encoder", "sentence-transformers"]) == 0
    return root


@pytest.fixture(scope="module")
def ours(folders: Path) -> list[dict[str, Any]]:
    return ranking.board_rows(results.load_results(folders), "ruMTEB")


@pytest.fixture(scope="module")
def theirs(folders: Path, ours: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """mteb's summary table of the same folder; the local models registered from their model_meta.json."""
    import mteb
    from mteb.benchmarks import _create_table
    from mteb.models.model_implementations import MODEL_REGISTRY
    from mteb.models.model_meta import ModelMeta

    added = []
    for meta_path in sorted(folders.glob("results/local__*/*/model_meta.json")):
        data = json.loads(meta_path.read_text(encoding="utf-8"))
        meta = ModelMeta.model_validate({**data, "loader": None})
        MODEL_REGISTRY[meta.name] = meta
        added.append(meta.name)
    caches = [
        getattr(_create_table, n)
        for n in dir(_create_table)
        if hasattr(getattr(_create_table, n), "cache_clear")
    ]
    try:
        for cached in caches:
            cached.cache_clear()
        bench = mteb.get_benchmark("MTEB(rus, v1)")
        loaded = mteb.ResultCache(folders).load_results(tasks=bench.tasks, require_model_meta=False)
        table = bench._create_summary_table(loaded._to_results_df(bench.tasks)).df
    finally:
        for name in added:
            del MODEL_REGISTRY[name]
        for cached in caches:
            cached.cache_clear()
    assert sorted(added) == sorted(LOCAL)
    return table.drop("_experiment_id").to_dicts()


def test_every_cell_equals_mteb_summary_table(
    ours: list[dict[str, Any]], theirs: list[dict[str, Any]]
) -> None:
    assert len(ours) == 10 and {r["Model"] for r in ours} == {r["Model"] for r in theirs}
    mine = {r["Model"]: r for r in ours}
    for row in theirs:
        scores = {k for k in row if k.startswith("Mean") or k in _type_columns(row)}
        expected = {k: _format_scores(v) if k in scores and v is not None else v for k, v in row.items()}
        got = {k: v for k, v in mine[row["Model"]].items() if k != "Zero-shot source"}
        assert got == expected, row["Model"]
    assert [r["Rank (Borda)"] for r in ours] == sorted(r["Rank (Borda)"] for r in theirs)
    assert list(ours[0])[:10] == list(ranking.LEADING_COLUMNS) and list(ours[0])[-1] == "Release Date"


def _format_scores(score: float) -> float:
    return round(score * 100, 2)  # mteb.leaderboard.table._format_scores (that module needs gradio)


def _type_columns(row: dict[str, Any]) -> set[str]:
    return set(row) - {*ranking.LEADING_COLUMNS, *ranking.TRAILING_COLUMNS, "Model"}


def test_unrounded_means_equal_mteb(folders: Path, theirs: list[dict[str, Any]]) -> None:
    from rumteb.reporting.leaderboard import score_benchmark

    models = {m.model: m for m in results.load_results(folders)}
    for row in theirs:
        scores = score_benchmark(models[row["Model"]])
        if row["Mean (Task)"] is None:
            assert scores.mean_task is None
            continue
        assert scores.mean_task == pytest.approx(row["Mean (Task)"], abs=1e-12)
        assert scores.mean_task_type == pytest.approx(row["Mean (TaskType)"], abs=1e-12)


def test_ties_missing_tasks_and_sources(ours: list[dict[str, Any]], folders: Path) -> None:
    rows = {r["Model"]: r for r in ours}
    e5 = rows["intfloat/multilingual-e5-small"]
    assert rows[TIE]["Rank (Borda)"] == e5["Rank (Borda)"] and rows[TIE]["Mean (Task)"] == e5["Mean (Task)"]
    gaps = rows[GAPS]
    assert gaps["Mean (Task)"] is None and gaps["PairClassification"] is None and gaps["STS"] is not None
    assert gaps["Rank (Borda)"] > e5["Rank (Borda)"]
    assert {rows[m]["Zero-shot source"] for m in LOCAL} == {"declared", "unknown"}
    assert rows["local/tiny-st"]["Zero-shot"] == -1
    assert 0 <= rows["local/tiny-bert"]["Zero-shot"] < 100
    assert rows["local/tiny-bert"]["Total Parameters (B)"] is not None
    notes = ranking.board_notes(results.load_results(folders))
    assert f"model {GAPS}: 3 of 23 tasks missing" in "\n".join(notes)
    assert any(
        n.startswith("Zero-shot of local/tiny-bert: declared in model_meta.json (trained on TERRa")
        for n in notes
    )
    meta = json.loads(
        next(folders.glob("results/local__tiny-bert/*/model_meta.json")).read_text(encoding="utf-8")
    )
    assert sorted(meta["training_datasets"]) == ["TERRa", "XNLI"]


def test_table_columns_board(
    folders: Path, ours: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["table", str(folders), "--columns", "board,size", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [r["Model"] for r in rows] == [r["Model"] for r in ours]
    assert list(rows[0])[-2:] == ["Params(M)", "Dim"]
    for got, row in zip(rows, ours, strict=True):
        assert got["Rank (Borda)"] == str(row["Rank (Borda)"]) and got["Zero-shot"] == str(row["Zero-shot"])
        assert got["Total Parameters (B)"] == (
            "" if row["Total Parameters (B)"] is None else f"{row['Total Parameters (B)']:.3f}"
        )
        assert got["Mean (Task)"] == ("" if row["Mean (Task)"] is None else f"{row['Mean (Task)']:.2f}")
    assert "note: Zero-shot of local/tiny-st: unknown (-1)" in captured.err


def test_unknown_training_dataset_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "run",
        "-m",
        "x/y",
        "-t",
        "TERRa",
        "--training-datasets",
        "TERRA",
        "--output-folder",
        str(tmp_path),
    ]
    assert main(argv) == 1
    assert "Unknown task 'TERRA'. Did you mean: TERRa, TERRa.V2?" in capsys.readouterr().err
    names = tmp_path / "names.txt"
    names.write_text("XNLI  # declared\nMIRACLRetrieval\n", encoding="utf-8")
    from rumteb.evaluation.training_data import parse_training_datasets

    assert parse_training_datasets([str(names), "TERRa"]) == ["MIRACLRetrieval", "TERRa", "XNLI"]
