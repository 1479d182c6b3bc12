"""The command line: run, table, tasks, and argument errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import mteb
import pytest
from _helpers import STSB_ROWS, TERRA_ROWS, main_score, mirror_for_task
from real_mirror import build as build_real_mirror
from sentence_transformers import SentenceTransformer

import rumteb
from rumteb.cli import build_parser, main
from rumteb.models import EncoderSettings
from rumteb.models.loading._fingerprint import weights_fingerprint
from rumteb.models.runtime._devices import parse_device

CPU = EncoderSettings(device="cpu")


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    mirror_for_task(root, "TERRa", {"default": TERRA_ROWS})
    mirror_for_task(root, "RuSTSBenchmarkSTS", {"default": STSB_ROWS})
    return root


def _result_files(out: Path) -> dict[str, Path]:
    return {p.stem: p for p in (out / "results").rglob("*.json") if p.name != "model_meta.json"}


def test_run_writes_mteb_layout_with_the_scores_of_mteb_evaluate(
    mirror: Path, tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["run", "-m", str(tiny_model_path), "-t", "TERRa", "RuSTSBenchmarkSTS", "--encoder"]
    argv += [
        "sentence-transformers",
        "--data-dir",
        str(mirror),
        "--output-folder",
        str(out),
        "--device",
        "cpu",
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "TERRa" in captured.err and "max_ap = " in captured.err
    assert "| model | Classification |" in captured.out

    revision = weights_fingerprint(tiny_model_path)
    model_dir = out / "results" / "local__tiny-bert" / revision
    assert (model_dir / "model_meta.json").is_file()
    files = _result_files(out)
    assert set(files) == {"TERRa", "RuSTSBenchmarkSTS"}
    assert all(p.parent == model_dir for p in files.values())

    # mteb's own tooling reads them, and they hold the scores of a plain mteb.evaluate on the same data
    cached = mteb.ResultCache(out).load_results(models=["local/tiny-bert"], require_model_meta=False)
    stored = {r.task_name: r.get_score() for m in cached.model_results for r in m.task_results}
    for name in ("TERRa", "RuSTSBenchmarkSTS"):
        model = SentenceTransformer(str(tiny_model_path), device="cpu")
        expected = main_score(mteb.evaluate(model, [rumteb.get_task(name, data_dir=mirror)], cache=None))
        # mteb writes scores rounded to 6 decimals
        assert stored[name] == pytest.approx(round(expected, 6), abs=1e-12)
    sts = json.loads(files["RuSTSBenchmarkSTS"].read_text())
    assert set(sts["scores"]) == {"test"}  # ruMTEB scores RuSTSBenchmarkSTS on test only


def test_run_on_the_benchmark_uses_its_splits(mirror: Path, tiny_model_path: Path, tmp_path: Path) -> None:
    from rumteb.evaluation.loop import run_tasks
    from rumteb.evaluation.resolve import load_model

    tasks = [t for t in rumteb.get_tasks(data_dir=mirror) if t.metadata.name == "RuSTSBenchmarkSTS"]
    run_tasks(load_model(str(tiny_model_path), CPU), tasks, output_folder=tmp_path / "o")
    stored = json.loads(_result_files(tmp_path / "o")["RuSTSBenchmarkSTS"].read_text())
    assert set(stored["scores"]) == {"test"}


def test_second_run_reuses_stored_results(mirror: Path, tiny_model_path: Path, tmp_path: Path) -> None:
    argv = ["run", "-m", str(tiny_model_path), "-t", "TERRa", "--data-dir", str(mirror)]
    argv += ["--output-folder", str(tmp_path / "o"), "--device", "cpu"]
    assert main(argv) == 0
    path = _result_files(tmp_path / "o")["TERRa"]
    before = path.stat().st_mtime_ns
    assert main(argv) == 0
    assert path.stat().st_mtime_ns == before
    assert main([*argv, "--overwrite-strategy", "always"]) == 0
    assert path.stat().st_mtime_ns != before


@pytest.mark.slow
@pytest.mark.usefixtures("single_threaded")
def test_run_on_exact_real_slices_matches_mteb(
    shared_data: Path, tiny_model_path: Path, tmp_path: Path
) -> None:
    """The issue's acceptance run, with the tiny model: three real ruMTEB slices, mteb's layout, mteb's scores."""
    mirror = tmp_path / "real"
    names = build_real_mirror(mirror, shared_data)
    out = tmp_path / "out"
    argv = ["run", "-m", str(tiny_model_path), "-t", *names, "--data-dir", str(mirror)]
    argv += ["--encoder", "sentence-transformers"]
    assert main([*argv, "--output-folder", str(out), "--device", "cpu"]) == 0
    files = _result_files(out)
    assert set(files) == set(names)
    for name in names:
        stored = mteb.TaskResult.from_disk(files[name]).get_score()
        model = SentenceTransformer(str(tiny_model_path), device="cpu")
        expected = main_score(mteb.evaluate(model, [rumteb.get_task(name, data_dir=mirror)], cache=None))
        assert stored == pytest.approx(round(expected, 6), abs=1e-12), name


def _scores(out: Path) -> dict[str, float]:
    return {name: mteb.TaskResult.from_disk(path).get_score() for name, path in _result_files(out).items()}


@pytest.mark.usefixtures("single_threaded")
def test_auto_runs_rumteb_encoder_with_its_settings_and_cache(
    mirror: Path, tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rumteb.evaluation.resolve import load_model
    from rumteb.models import Encoder

    assert isinstance(load_model(str(tiny_model_path), CPU), Encoder)  # auto on a local ST folder
    base = ["run", "-m", str(tiny_model_path), "-t", "TERRa", "RuSTSBenchmarkSTS", "--data-dir", str(mirror)]
    base += ["--device", "cpu", "--precision", "fp32", "--max-tokens-per-batch", "64"]
    cache = tmp_path / "cache"
    assert main([*base, "--output-folder", str(tmp_path / "a"), "--cache-dir", str(cache)]) == 0
    err = capsys.readouterr().err
    assert "rumteb's encoder (fp32 on cpu)" in err and "from --cache-dir" in err
    assert "reused 0 from this run and 0 from --cache-dir" in err
    # same layout and model folder as the sentence-transformers path; fp32 scores agree with it
    assert (
        main([*base[:-6], "--encoder", "sentence-transformers", "--output-folder", str(tmp_path / "st")]) == 0
    )
    ours, st = _scores(tmp_path / "a"), _scores(tmp_path / "st")
    assert set(ours) == set(st) == {"TERRa", "RuSTSBenchmarkSTS"}
    assert ours == pytest.approx(st, abs=2e-4)
    assert {p.parent for p in _result_files(tmp_path / "a").values()} == {
        tmp_path / "a" / "results" / "local__tiny-bert" / weights_fingerprint(tiny_model_path)
    }
    capsys.readouterr()
    # a second run into a new folder encodes nothing: every embedding comes from --cache-dir, same scores
    assert main([*base, "--output-folder", str(tmp_path / "b"), "--cache-dir", str(cache)]) == 0
    assert "Encoded 0 texts" in capsys.readouterr().err
    assert _scores(tmp_path / "b") == _scores(tmp_path / "a")
    # and the scores equal mteb.evaluate of the same encoder
    encoder = Encoder(str(tiny_model_path), device="cpu", precision="fp32")
    for name in ("TERRa",):
        expected = main_score(mteb.evaluate(encoder, [rumteb.get_task(name, data_dir=mirror)], cache=None))
        assert ours[name] == pytest.approx(round(expected, 6), abs=1e-12)


def test_encoder_settings_are_refused_for_sentence_transformers(
    tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "-m", str(tiny_model_path), "-t", "TERRa", "--encoder", "sentence-transformers"]
    assert main([*argv, "--precision", "bf16", "--cache-dir", "c"]) == 1
    err = capsys.readouterr().err
    assert "--precision, --cache-dir are settings of rumteb's encoder" in err and "--encoder rumteb" in err
    assert main([*argv, "--device", "cpu,cpu"]) == 1
    assert "The '--device' option must be one device for the sentence-transformers" in capsys.readouterr().err
    assert main(["run", "-m", str(tiny_model_path), "-t", "TERRa", "--max-tokens-per-batch", "0"]) == 1
    assert "'--max-tokens-per-batch' option must be a positive int. Got 0" in capsys.readouterr().err


def test_auto_falls_back_to_sentence_transformers_without_pooling(tiny_model_path: Path) -> None:
    from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper

    from rumteb.evaluation.resolve import load_model
    from rumteb.models import Encoder

    plain = tiny_model_path  # without its sentence-transformers files: a plain transformers folder
    for name in ("modules.json", "config_sentence_transformers.json"):
        (plain / name).unlink(missing_ok=True)
    assert isinstance(load_model(str(plain), CPU), SentenceTransformerEncoderWrapper)
    assert isinstance(load_model(str(plain), CPU.replace(pooling="cls")), Encoder)


def test_no_prompts_and_prompt_files(mirror: Path, tiny_model_path: Path, tmp_path: Path) -> None:
    from rumteb.evaluation.resolve import load_model

    prompts = tmp_path / "p.json"
    prompts.write_text(
        json.dumps({"query": "search_query: ", "document": "search_document: ", "TERRa": "x: "})
    )
    argv = ["run", "-m", str(tiny_model_path), "-t", "TERRa", "--data-dir", str(mirror), "--device", "cpu"]
    assert main([*argv, "--output-folder", str(tmp_path / "a"), "--prompts", str(prompts)]) == 0
    model = load_model(str(tiny_model_path), CPU, prompts={"TERRa": "x: "})
    assert model.model_prompts == {"TERRa": "x: "}
    assert load_model(str(tiny_model_path), CPU, prompts={}).model_prompts == {}
    prompts.write_text('["not", "a", "dict"]')
    assert main([*argv, "--output-folder", str(tmp_path / "b"), "--prompts", str(prompts)]) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("cpu", "cpu"),
        ("cuda", "cuda"),
        ("cuda:1", "cuda:1"),
        ("0", "cuda:0"),
        ("CPU", "cpu"),
        ("cuda:0,1", ["cuda:0", "cuda:1"]),
        ("cpu, cpu", ["cpu", "cpu"]),
    ],
)
def test_device_accepts_cpu_mteb_indices_and_lists(value: str, expected: str | list[str]) -> None:
    assert parse_device(value) == expected


def test_bad_arguments_exit_nonzero_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "-m", str(tmp_path / "missing" / "model"), "-t", "TERRa"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["run", "-m", "x", "-t", "TERRa", "--device", "gpu"]) == 1
    assert "'--device' option must be cpu, cuda, cuda:N" in capsys.readouterr().err
    assert main(["run", "-m", "x", "-t", "TERRa", "--batch-size", "0"]) == 1
    assert "'--batch-size' option must be a positive int. Got 0" in capsys.readouterr().err
    assert main(["run", "-m", "x", "-t", "TERA"]) == 1
    assert "Did you mean: TERRa?" in capsys.readouterr().err
    empty = tmp_path / "empty-model"
    empty.mkdir()
    assert main(["run", "-m", str(empty), "-t", "TERRa"]) == 1
    assert "has no weight files" in capsys.readouterr().err


def test_table_prints_the_published_models(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["table", str(shared_data / "published" / "results"), "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == [
        "model",
        "Classification",
        "Clustering",
        "MultilabelClassification",
        "PairClassification",
        "Reranking",
        "Retrieval",
        "STS",
        "Mean(Task)",
        "Mean(TaskType)",
    ]
    assert len(rows) == 7
    assert {r[0] for r in rows[1:]} >= {"ai-forever/ru-en-RoSBERTa", "intfloat/multilingual-e5-small"}


def test_tasks_lists_the_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 23
    assert {"name": "TERRa", "eval_splits": "dev", "main_score": "max_ap"}.items() <= rows[14].items()
    assert main(["tasks", "--all", "--format", "csv"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 26


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["--help"],
        ["run", "--help"],
        ["table", "--help"],
        ["tasks", "--help"],
        ["data", "pull", "--help"],
    ):
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args(argv)
        assert exit_info.value.code == 0
        assert "usage: rumteb" in capsys.readouterr().out


def test_mteb_passthrough_knows_rumteb_benchmarks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mteb", "available-benchmarks", "-b", "ruMTEB(v1.1)"]) == 0
    out = capsys.readouterr().out
    assert "MIRACLRetrievalHardNegatives.v2" in out and "RuBQReranking" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["mteb", "--help"])
    assert exit_info.value.code == 0
    assert "MTEB Command Line Interface" in capsys.readouterr().out
    assert main(["mteb"]) == 2
