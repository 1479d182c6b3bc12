"""The whole benchmark offline: mteb.evaluate(model, rumteb.get_benchmark()) on a miniature mirror of all datasets."""

from __future__ import annotations

import re
from pathlib import Path

import mteb
import pytest
from _helpers.mini_rumteb import build_mini_rumteb
from sentence_transformers import SentenceTransformer

import rumteb
from rumteb.cli import main
from rumteb.reporting import leaderboard, results

pytestmark = pytest.mark.usefixtures("single_threaded")


@pytest.fixture(scope="module")
def mini_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_mini_rumteb(tmp_path_factory.mktemp("mini-rumteb"))


@pytest.mark.slow
@pytest.mark.parametrize("benchmark", ["ruMTEB", "ruMTEB(v1.1)"])
def test_mteb_evaluate_runs_the_whole_benchmark_offline(
    benchmark: str, mini_mirror: Path, tiny_model_path: Path, tmp_path: Path
) -> None:
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    bench = rumteb.get_benchmark(benchmark, data_dir=mini_mirror)
    out = mteb.evaluate(model, bench, cache=mteb.ResultCache(tmp_path / "cache"), show_progress_bar=False)
    assert sorted(r.task_name for r in out.task_results) == sorted(t.metadata.name for t in bench.tasks)
    types = {t.metadata.name: t.metadata.type for t in bench.tasks}
    for task_result in out.task_results:
        # Spearman may be negative for a random model
        low = -1.0 if types[task_result.task_name] == "STS" else 0.0
        assert low <= task_result.get_score() <= 1.0, task_result.task_name

    # the leaderboard table of this run has all 23 tasks, no missing ones
    (model_scores,) = results.load_results([tmp_path / "cache"])
    scored = leaderboard.score_benchmark(model_scores, benchmark)
    assert scored.missing == {}
    assert scored.mean_task is not None and scored.mean_task_type is not None


def test_run_command_on_the_benchmark(
    mini_mirror: Path, tiny_model_path: Path, tmp_path: Path, capsys
) -> None:
    argv = ["run", "-m", str(tiny_model_path), "-b", "ruMTEB", "--data-dir", str(mini_mirror)]
    assert main([*argv, "--output-folder", str(tmp_path / "o"), "--device", "cpu"]) == 0
    captured = capsys.readouterr()
    score_lines = [
        line
        for line in captured.err.splitlines()
        if re.match(r"^  \[\d+/\d+\] \S+ +\w+ = -?\d\.\d{4}  \(", line)
    ]
    assert len(score_lines) == 23  # one line per task with its main score and time
    table = [line for line in captured.out.splitlines() if line.startswith("| local/tiny-bert")]
    assert len(table) == 1 and "n/a" not in table[0]
