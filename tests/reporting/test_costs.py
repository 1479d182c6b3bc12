"""Size and speed beside quality: what rumteb run records, rumteb table --columns, rumteb plot --pareto."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from _helpers import STSB_ROWS, TERRA_ROWS, mirror_for_task

from rumteb.cli import main
from rumteb.reporting import costs, leaderboard, plot, results

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def published(shared_data: Path) -> Path:
    return shared_data / "published" / "results"


@pytest.fixture
def run_output(tiny_model_path: Path, tmp_path: Path) -> Path:
    """rumteb run of the tiny model on two small tasks, once with each encoder (two models in one folder)."""
    mirror = tmp_path / "mirror"
    mirror_for_task(mirror, "TERRa", {"default": TERRA_ROWS})
    mirror_for_task(mirror, "RuSTSBenchmarkSTS", {"default": STSB_ROWS})
    out = tmp_path / "out"
    argv = ["run", "-t", "TERRa", "RuSTSBenchmarkSTS", "--data-dir", str(mirror), "--output-folder", str(out)]
    argv += ["--device", "cpu"]
    assert main([*argv, "-m", str(tiny_model_path), "--encoder", "rumteb", "--precision", "fp32"]) == 0
    st_copy = tmp_path / "tiny-st"  # another folder name: another model name for the second encoder
    shutil.copytree(tiny_model_path, st_copy)
    assert main([*argv, "-m", str(st_copy), "--encoder", "sentence-transformers"]) == 0
    return out


def _settings(out: Path, model: str) -> list[dict]:
    (path,) = (out / "results").glob(f"{model}/*/run_settings.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_run_records_size_device_precision_and_throughput(run_output: Path, tiny_model_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    params = sum(p.numel() for p in model.parameters())
    texts = {"TERRa": 2 * len(TERRA_ROWS["dev"]), "RuSTSBenchmarkSTS": 2 * len(STSB_ROWS["test"])}
    tokenizer = model.tokenizer
    for folder, precision in (("local__tiny-bert", "fp32"), ("local__tiny-st", "fp32")):
        entries = _settings(run_output, folder)
        assert {e["task"] for e in entries} == set(texts)
        for entry in entries:
            record = entry["rumteb"]
            assert record["model"] == {
                "n_parameters": params,  # rumteb's encoder: from the safetensors headers; ST: on the module
                "embed_dim": 64,
                "device": "cpu",
                "precision": precision,
            }
            speed = record["throughput"]
            assert speed["texts"] == texts[entry["task"]] and speed["reused"] == 0
            rows = TERRA_ROWS["dev"] if entry["task"] == "TERRa" else STSB_ROWS["test"]
            sentences = [r[key] for r in rows for key in ("sentence1", "sentence2")]
            assert speed["tokens"] == sum(len(ids) for ids in tokenizer(sentences)["input_ids"])
            assert speed["seconds"] > 0
            # the rates come from the unrounded seconds
            assert speed["texts_per_second"] == pytest.approx(speed["texts"] / speed["seconds"], rel=1e-2)
            assert speed["tokens_per_second"] == pytest.approx(speed["tokens"] / speed["seconds"], rel=1e-2)


def test_a_warm_cache_records_no_rate(tiny_model_path: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror_for_task(mirror, "TERRa", {"default": TERRA_ROWS})
    argv = ["run", "-m", str(tiny_model_path), "-t", "TERRa", "--data-dir", str(mirror), "--device", "cpu"]
    argv += ["--cache-dir", str(tmp_path / "cache"), "--encoder", "rumteb"]
    assert main([*argv, "--output-folder", str(tmp_path / "cold")]) == 0
    assert main([*argv, "--output-folder", str(tmp_path / "warm")]) == 0
    (cold,) = _settings(tmp_path / "cold", "local__tiny-bert")
    (warm,) = _settings(tmp_path / "warm", "local__tiny-bert")
    assert cold["rumteb"]["throughput"]["texts_per_second"] > 0
    assert warm["rumteb"]["throughput"] == {
        "texts": 0,
        "tokens": 0,
        "seconds": 0.0,
        "texts_per_second": None,
        "tokens_per_second": None,
        "reused": 40,
    }


def test_table_columns_speed_and_size(
    run_output: Path, published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["table", str(run_output), str(published), "--columns", "speed,size", "--format", "csv"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    rows = {r["model"]: r for r in csv.DictReader(io.StringIO(captured.out))}
    assert list(next(iter(rows.values())))[-5:] == ["Params(M)", "Dim", "Texts/s", "Tokens/s", "Device"]
    # published models: size from mteb's registry, no speed
    e5 = rows["intfloat/multilingual-e5-small"]
    assert (e5["Params(M)"], e5["Dim"], e5["Texts/s"], e5["Device"]) == ("118.00", "384", "", "")
    tiny = rows["local/tiny-bert"]
    assert (
        tiny["Dim"] == "64"
        and float(tiny["Texts/s"]) > 0
        and float(tiny["Tokens/s"]) > float(tiny["Texts/s"])
    )
    assert tiny["Device"] == "cpu fp32"
    assert "compare speeds measured on one machine only" in captured.err
    assert main(["table", str(published), "--columns", "sped"]) == 1
    assert "Unknown column group 'sped'. Did you mean: speed?" in capsys.readouterr().err


def test_model_costs_of_a_run_sum_over_tasks(run_output: Path) -> None:
    (model,) = [m for m in results.load_results(run_output) if m.model == "local/tiny-bert"]
    entries = _settings(run_output, "local__tiny-bert")
    texts = sum(e["rumteb"]["throughput"]["texts"] for e in entries)
    seconds = sum(e["rumteb"]["throughput"]["seconds"] for e in entries)
    got = costs.model_costs(model)
    assert got.texts_per_second == pytest.approx(texts / seconds, rel=1e-3)
    assert got.size_source == "run_settings.jsonl" and got.embed_dim == 64


def test_pareto_front() -> None:
    assert plot.pareto_front([(10, 50.0), (100, 60.0), (50, 40.0)], more_x_is_better=False) == [0, 1]
    assert plot.pareto_front([(10, 50.0), (100, 60.0), (50, 70.0)], more_x_is_better=True) == [2, 1]
    assert plot.pareto_front([(1, 1.0), (1, 1.0)], more_x_is_better=False) == [0, 1]  # ties dominate nothing


def test_pareto_plot_of_the_published_models(published: Path, tmp_path: Path) -> None:
    out = plot.plot_pareto(published, tmp_path / "pareto.png", x="params", size=(6, 4), dpi=50)
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    models = results.load_results(published)
    points = [
        (m.model, costs.model_costs(m).n_parameters / 1e6, 100 * leaderboard.score_benchmark(m).mean_task)  # type: ignore[operator]
        for m in models
    ]
    figure = plot._draw_pareto(points, [], "params", "ruMTEB", None, (6, 4), 50)
    (axes,) = figure.axes
    everyone, front = axes.collections
    assert len(everyone.get_offsets()) == 6
    on_front = {name for name, x, y in points if [x, y] in front.get_offsets().tolist()}
    # fewer parameters and a higher Mean(Task) than any other: rubert-tiny2 < e5-small < ru-en-RoSBERTa
    assert on_front == {
        "cointegrated/rubert-tiny2",
        "intfloat/multilingual-e5-small",
        "ai-forever/ru-en-RoSBERTa",
    }


def _with_speed(published: Path, target: Path, folder: str, texts_per_second: float) -> None:
    """A copy of a published model folder with run settings as rumteb run records them (synthetic speed)."""
    shutil.copytree(published / folder, target / folder)
    (revision,) = (target / folder).iterdir()
    lines = []
    for path in sorted(revision.glob("*.json")):
        speed = {
            "texts": int(texts_per_second),
            "tokens": 10 * int(texts_per_second),
            "seconds": 1.0,
            "reused": 0,
        }
        record = {"model": {"n_parameters": None, "embed_dim": None, "device": "cpu", "precision": "bf16"}}
        lines.append(
            json.dumps({"task": path.stem, "splits": ["test"], "rumteb": {**record, "throughput": speed}})
        )
    (revision / "run_settings.jsonl").write_text("\n".join(lines) + "\n")


def test_pareto_cli_by_throughput(published: Path, tmp_path: Path) -> None:
    timed = tmp_path / "timed"
    _with_speed(published, timed, "intfloat__multilingual-e5-small", 500.0)
    _with_speed(published, timed, "cointegrated__rubert-tiny2", 2000.0)
    _with_speed(published, timed, "ai-forever__sbert_large_nlu_ru", 100.0)
    (tiny,) = [m for m in results.load_results(timed) if m.model == "cointegrated/rubert-tiny2"]
    assert costs.model_costs(tiny).texts_per_second == 2000.0 and costs.model_costs(tiny).device == "cpu bf16"
    out = tmp_path / "speed.png"
    argv = ["plot", str(timed), "--out", str(out), "--pareto", "--x", "throughput", "--dpi", "40"]
    assert main(argv) == 0
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    # sbert_large_nlu_ru is slower and worse than e5-small: off the front
    points = [(500.0, 57.21), (2000.0, 42.41), (100.0, 45.38)]
    assert plot.pareto_front(points, more_x_is_better=True) == [0, 1]
    # the published models alone have no measured speed: nothing to draw, and the error says why
    assert main(["plot", str(published), "--out", str(out), "--pareto", "--x", "throughput"]) == 1


def test_token_count_of_a_large_call_is_sampled(monkeypatch: pytest.MonkeyPatch) -> None:
    from rumteb.evaluation import speed as _speed

    calls: list[int] = []

    def tokenizer(chunk: list[str], **kwargs: object) -> dict[str, list[list[int]]]:
        calls.append(len(chunk))
        return {"input_ids": [[0] * (2 + len(t.split())) for t in chunk]}

    texts = [f"слово {i}" for i in range(50)]
    assert _speed._count_tokens((tokenizer, 128), texts, "q: ") == 50 * 5
    monkeypatch.setattr(_speed, "_TOKEN_SAMPLE", 10)
    calls.clear()
    assert _speed._count_tokens((tokenizer, 128), texts, "q: ") == 50 * 5  # 10 texts tokenized, scaled by 5
    assert sum(calls) == 10
