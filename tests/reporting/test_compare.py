"""``rumteb compare``: per-task differences of two models with a paired bootstrap CI, from mteb's prediction folders.

Two tiny random BERTs (different seeds) are run through ``rumteb.evaluation.loop.run_tasks`` with a prediction folder on
real TERRa (dev, exact) and a miniature mirror of the other task types. The scores compare recomputes from the
per-example outputs must equal the main scores mteb reported for the same runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import _helpers
import numpy as np
import pytest
from _helpers import build_tiny_bert, mirror_for_task, read_jsonl
from _helpers.mini_rumteb import build_mini_rumteb
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score

import rumteb
from rumteb.reporting import _scorers, compare
from rumteb.reporting.compare import compare_predictions
from rumteb.reporting.compare_table import format_comparison
from rumteb.reporting.predictions import CompareError

pytestmark = pytest.mark.usefixtures("single_threaded")

MINI = [
    "RUParaPhraserSTS",  # gold scores with ties (3 classes)
    "RuSTSBenchmarkSTS",  # ruMTEB scores its test split only
    "STS22",  # multilingual: the "ru" subset
    "RuBQRetrieval",  # ignore_identical_ids
    "MIRACLReranking",  # ndcg_at_10 over candidate lists, subset "ru"
    "RuBQReranking",  # map_at_1000
    "GeoreviewClassification",
    "MassiveIntentClassification",  # two splits (validation, test) averaged
    "CEDRClassification",  # multilabel, exact-match accuracy
    "GeoreviewClusteringP2P",  # no per-example outputs: n/a
]
SUPPORTED = ["TERRa", *(name for name in MINI if name != "GeoreviewClusteringP2P")]
#: Examples resampled per task in the mirror below.
SIZES = {
    "TERRa": 307,
    "RUParaPhraserSTS": 30,
    "RuSTSBenchmarkSTS": 30,
    "STS22": 20,
    "RuBQRetrieval": 8,
    "MIRACLReranking": 8,
    "RuBQReranking": 8,
    "GeoreviewClassification": 32,
    "MassiveIntentClassification": 80,
    "CEDRClassification": 24,
}


@dataclass(frozen=True)
class Runs:
    mirror: Path
    pred_a: Path
    pred_b: Path
    scores_a: dict[str, float]
    scores_b: dict[str, float]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, shared_data: Path, _tiny_model_session: Path) -> Runs:
    """Two tiny models run on the same tasks, each with its own prediction folder."""
    from rumteb.evaluation.loop import run_tasks
    from rumteb.evaluation.resolve import load_model
    from rumteb.models import EncoderSettings

    root = tmp_path_factory.mktemp("compare")
    mirror = build_mini_rumteb(root / "mirror", MINI)
    terra = [
        {"sentence1": r["sentence1"], "sentence2": r["sentence2"], "labels": int(r["label"])}
        for r in read_jsonl(shared_data / "rumteb" / "TERRa" / "dev.jsonl")
    ]
    mirror_for_task(mirror, "TERRa", {"default": {"dev": terra}})
    model_b = build_tiny_bert(root / "b", shared_data, seed=1)
    scores = []
    with _helpers.one_thread():
        for tag, path in (("a", _tiny_model_session), ("b", model_b)):
            tasks = rumteb.get_tasks(["TERRa", *MINI], data_dir=mirror)
            outcomes = run_tasks(
                load_model(str(path), EncoderSettings(device="cpu")),
                tasks,
                output_folder=root / f"results-{tag}",
                prediction_folder=root / f"pred-{tag}",
            )
            scores.append({o.task: o.score for o in outcomes})
    return Runs(mirror, root / "pred-a", root / "pred-b", *scores)


@pytest.fixture(scope="module")
def comparison(runs: Runs) -> compare.Comparison:
    return compare_predictions(runs.pred_a, runs.pred_b, data_dir=runs.mirror, n_boot=500, seed=0)


def _rows(result: compare.Comparison) -> dict[str, compare.TaskComparison]:
    return {row.task: row for row in result.tasks}


# --- differential truth: the point estimates are mteb's main scores -----------------------------------------


def test_point_estimates_equal_the_main_scores_mteb_reported(
    runs: Runs, comparison: compare.Comparison
) -> None:
    rows = _rows(comparison)
    assert list(rows) == [n for n in rumteb.tasks.TASKS_BY_NAME if n in rows]  # ruMTEB's order
    assert set(rows) == {"TERRa", *MINI}
    for name in SUPPORTED:
        row = rows[name]
        assert row.note == "", (name, row.note)
        assert row.metric == rumteb.get_task(name).metadata.main_score
        assert row.score_a == pytest.approx(runs.scores_a[name], abs=1e-9), name
        assert row.score_b == pytest.approx(runs.scores_b[name], abs=1e-9), name
        assert row.diff == row.score_b - row.score_a  # type: ignore[operator]
        assert row.n == SIZES[name], name
    # the two random models really differ, so the check above compares two different sets of outputs
    assert sum(rows[n].diff != 0 for n in SUPPORTED) >= len(SUPPORTED) - 2
    assert rows["RuSTSBenchmarkSTS"].splits == ("test/default",)
    assert rows["MassiveIntentClassification"].splits == ("validation/ru", "test/ru")


def test_clustering_is_na_with_the_reason(comparison: compare.Comparison) -> None:
    row = _rows(comparison)["GeoreviewClusteringP2P"]
    assert row.diff is None and row.ci_low is None and row.n is None and row.significant is None
    assert row.note.startswith("n/a: ") and "per-example" in row.note


# --- the bootstrap ------------------------------------------------------------------------------------------


def test_interval_contains_the_point_estimate(comparison: compare.Comparison) -> None:
    for row in comparison.tasks:
        if row.diff is not None:
            assert row.ci_low is not None and row.ci_high is not None
            assert row.ci_low <= row.diff <= row.ci_high, row.task
            assert row.ci_low < row.ci_high, (
                row.task
            )  # different models: the difference varies over resamples


def test_identical_models_differ_by_exactly_zero(runs: Runs, tmp_path: Path) -> None:
    copy = shutil.copytree(runs.pred_a, tmp_path / "copy")
    result = compare_predictions(runs.pred_a, copy, data_dir=runs.mirror, n_boot=200, seed=3)
    for name in SUPPORTED:
        row = _rows(result)[name]
        assert (row.diff, row.ci_low, row.ci_high) == (0.0, 0.0, 0.0), name
        assert row.significant is False


def test_a_fixed_seed_is_reproducible_and_the_seed_matters(
    runs: Runs, comparison: compare.Comparison
) -> None:
    again = compare_predictions(runs.pred_a, runs.pred_b, data_dir=runs.mirror, n_boot=500, seed=0)
    assert again == comparison
    # a task's resamples depend on the seed and its name only, not on which other tasks are compared
    (terra,) = compare_predictions(
        runs.pred_a, runs.pred_b, tasks=["TERRa"], data_dir=runs.mirror, n_boot=500, seed=0
    ).tasks
    assert terra == _rows(comparison)["TERRa"]
    other = compare_predictions(runs.pred_a, runs.pred_b, data_dir=runs.mirror, n_boot=500, seed=1)
    assert [(r.ci_low, r.ci_high) for r in other.tasks] != [(r.ci_low, r.ci_high) for r in comparison.tasks]
    assert [r.diff for r in other.tasks] == [r.diff for r in comparison.tasks]


def _materialise(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts.astype(int))


def test_resampled_average_precision_equals_sklearn_on_the_resample() -> None:
    rng = np.random.default_rng(0)
    scores = np.round(rng.normal(size=60), 1)  # many ties
    labels = (rng.random(60) < 0.4).astype(float)
    counts = compare._resample_counts(rng, 20, 60)
    scorer = _scorers._MaxAPScorer([scores, -scores], labels)
    got = scorer.resampled(counts)
    for row, value in zip(counts, got, strict=True):
        idx = _materialise(row)
        expected = max(average_precision_score(labels[idx], s[idx]) for s in (scores, -scores))
        assert value == pytest.approx(expected, abs=1e-12)
    assert scorer.point() == pytest.approx(
        max(average_precision_score(labels, scores), average_precision_score(labels, -scores)), abs=1e-12
    )


def test_resampled_spearman_equals_scipy_on_the_resample() -> None:
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 4, size=50).astype(float)  # ties, as STS grades have
    predicted = np.round(gold + rng.normal(size=50), 1)
    counts = compare._resample_counts(rng, 20, 50)
    scorer = _scorers._CorrelationScorer(gold, predicted, ranks=True)
    for row, value in zip(counts, scorer.resampled(counts), strict=True):
        idx = _materialise(row)
        assert value == pytest.approx(spearmanr(gold[idx], predicted[idx])[0], abs=1e-12)
    assert scorer.point() == pytest.approx(spearmanr(gold, predicted)[0], abs=1e-12)


@pytest.mark.parametrize(("ignore_identical_ids", "skip_first_result"), [(True, False), (False, True)])
@pytest.mark.parametrize("metric", ["ndcg_at_10", "map_at_1000"])
def test_per_query_scores_average_to_mteb_retrieval_scores(
    metric: str, ignore_identical_ids: bool, skip_first_result: bool
) -> None:
    from mteb._evaluators.retrieval_evaluator import RetrievalEvaluator

    rng = np.random.default_rng(2)
    docs = [f"d{i}" for i in range(30)] + [f"q{i}" for i in range(12)]  # some documents share a query's id
    qrels = {f"q{i}": {f"d{j}": 1 for j in rng.choice(30, 3, replace=False)} for i in range(12)}
    run = {q: {d: float(rng.random()) for d in rng.choice(docs, 15, replace=False)} | {q: 2.0} for q in qrels}
    task = argparse.Namespace(ignore_identical_ids=ignore_identical_ids, skip_first_result=skip_first_result)
    scorer = _scorers._retrieval_scorer(task, run, {"relevant_docs": qrels}, metric)
    reference = RetrievalEvaluator.evaluate(
        None,  # type: ignore[arg-type]
        qrels,
        json.loads(json.dumps(run)),  # mteb edits the run in place
        [10, 1000],
        ignore_identical_ids=ignore_identical_ids,
        skip_first_result=skip_first_result,
    )
    kind, k = metric.split("_at_")
    expected = (reference.ndcg if kind == "ndcg" else reference.map)[f"{kind.upper()}@{k}"]
    assert scorer.n == 12 and scorer.point() == expected
    assert scorer.resampled(np.ones((1, 12)))[0] == pytest.approx(expected, abs=1e-12)


def test_resample_counts_draw_n_examples_each() -> None:
    counts = compare._resample_counts(np.random.default_rng(0), 7, 13)
    assert counts.shape == (7, 13) and (counts.sum(axis=1) == 13).all() and (counts >= 0).all()


# --- what cannot be compared --------------------------------------------------------------------------------


def test_a_task_in_one_folder_only_is_na(runs: Runs, tmp_path: Path) -> None:
    partial = shutil.copytree(runs.pred_b, tmp_path / "partial")
    (partial / "TERRa_predictions.json").unlink()
    result = compare_predictions(
        runs.pred_a, partial, tasks=["TERRa", "STS22"], data_dir=runs.mirror, n_boot=50
    )
    terra, sts = result.tasks
    assert terra.diff is None and terra.note == "n/a: no predictions for model B"
    assert sts.diff is not None


def test_predictions_made_on_other_data_are_an_error(runs: Runs, tmp_path: Path) -> None:
    other = shutil.copytree(runs.pred_b, tmp_path / "other")
    path = other / "TERRa_predictions.json"
    data = json.loads(path.read_text())
    data["default"]["dev"] = {k: v[:-1] for k, v in data["default"]["dev"].items()}
    path.write_text(json.dumps(data))
    with pytest.raises(CompareError, match=r"306 pairs but the dataset has 307 \(made on other data\?\)"):
        compare_predictions(runs.pred_a, other, tasks=["TERRa"], data_dir=runs.mirror, n_boot=10)


def test_bad_arguments(runs: Runs, tmp_path: Path) -> None:
    with pytest.raises(CompareError, match=r"does not exist.*--prediction-folder"):
        compare_predictions(tmp_path / "nope", runs.pred_b)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CompareError, match="No ruMTEB prediction files"):
        compare_predictions(runs.pred_a, tmp_path / "empty")
    with pytest.raises(
        ValueError, match="The 'n_boot' parameter of compare_predictions must be a positive int"
    ):
        compare_predictions(runs.pred_a, runs.pred_b, n_boot=0)
    with pytest.raises(ValueError, match="The 'confidence' parameter"):
        compare_predictions(runs.pred_a, runs.pred_b, confidence=95)
    with pytest.raises(LookupError, match="Did you mean: TERRa"):
        compare_predictions(runs.pred_a, runs.pred_b, tasks=["TERRA"])


# --- command line and formats -------------------------------------------------------------------------------


def _cli(argv: list[str]) -> int:
    from rumteb.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_cli_markdown(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compare", str(runs.pred_a), str(runs.pred_b), "-t", "TERRa", "GeoreviewClusteringP2P"]
    assert _cli([*argv, "--data-dir", str(runs.mirror), "--n-boot", "100"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("A = local/model@") and "paired bootstrap 95% CI (100 resamples" in out
    lines = out.splitlines()
    assert lines[2] == "| task | type | metric | n | A | B | B - A | 95% CI | note |"
    terra = next(line for line in lines if line.startswith("| TERRa |")).split(" | ")
    expected = 100 * (runs.scores_b["TERRa"] - runs.scores_a["TERRa"])
    assert terra[3] == "307" and float(terra[6]) == pytest.approx(expected, abs=0.006)
    assert "| GeoreviewClusteringP2P | Clustering | v_measure |  | n/a |" in out


def test_cli_json_and_csv(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["compare", str(runs.pred_a), str(runs.pred_b), "-t", "STS22", "--data-dir", str(runs.mirror)]
    assert _cli([*base, "--format", "json", "--seed", "4", "--confidence", "0.9", "--n-boot", "100"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["n_boot"], data["seed"], data["confidence"], data["scale"]) == (100, 4, 0.9, 100)
    (row,) = data["tasks"]
    assert row["diff"] == pytest.approx(100 * (runs.scores_b["STS22"] - runs.scores_a["STS22"]), abs=1e-5)
    assert row["ci_low"] <= row["diff"] <= row["ci_high"] and row["splits"] == "test/ru"
    assert _cli([*base, "--format", "csv", "--n-boot", "100"]) == 0
    header, line = capsys.readouterr().out.splitlines()
    assert header == "task,type,metric,splits,n,score_a,score_b,diff,ci_low,ci_high,significant,note"
    assert line.startswith("STS22,STS,cosine_spearman,test/ru,20,")


def test_cli_help_explains_the_folders(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _cli(["compare", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for expected in (
        "PRED_A PRED_B",
        "--n-boot",
        "--seed",
        "--format {md,csv,json}",
        "own prediction folder",
    ):
        assert expected in text
    assert "Clustering n/a" in text


def test_format_rejects_unknown_formats(comparison: compare.Comparison) -> None:
    with pytest.raises(ValueError, match=r"The 'fmt' parameter of format_comparison must be one of"):
        format_comparison(comparison, "latex")
