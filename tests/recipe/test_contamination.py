"""The contamination report on real data: ParaPhraser train vs RUParaPhraserSTS test (exact slice), STS-B ru train vs
RuSTSBenchmarkSTS test, with planted duplicates that must be found and an independent brute force that says no pair
is invented; and training with exclude_contaminated."""

from __future__ import annotations

import json
import math
import shutil
import unicodedata
from pathlib import Path

import pytest
from _helpers import mirror_for_task, read_jsonl

import rumteb
from rumteb.cli import main
from rumteb.recipe.config import config_from_dict
from rumteb.recipe.contamination import ExcludeConfig, find_contamination, jaccard, normalise

THRESHOLD = 0.8


def _norm(text: str) -> str:  # written apart from the module's: the reference of these tests
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _grams(text: str) -> set[str]:
    return {text[i : i + 5] for i in range(max(1, len(text) - 4))}


def _brute_near(train: set[str], evaluation: set[str]) -> set[str]:
    """Every training text with an evaluation text at Jaccard >= THRESHOLD, by comparing all pairs whose 5-gram
    counts allow it (Jaccard <= min/max of the two set sizes)."""
    by_size: dict[int, list[set[str]]] = {}
    for e in evaluation:
        grams = _grams(e)
        by_size.setdefault(len(grams), []).append(grams)
    found = set()
    for t in train - evaluation:
        g = _grams(t)
        low, high = math.ceil(THRESHOLD * len(g)), math.floor(len(g) / THRESHOLD)
        if any(
            len(g & h) / len(g | h) >= THRESHOLD
            for size in range(low, high + 1)
            for h in by_size.get(size, ())
        ):
            found.add(t)
    return found


@pytest.fixture(scope="module")
def setup(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("contamination")
    para_test = read_jsonl(shared_data / "rumteb" / "RUParaPhraserSTS" / "test.jsonl")
    hub = [{"text_1": r["sentence1"], "text_2": r["sentence2"], "class": int(r["score"])} for r in para_test]
    mirror_for_task(root / "data", "RUParaPhraserSTS", {"default": {"test": hub}})
    sts_test = read_jsonl(shared_data / "rumteb" / "RuSTSBenchmarkSTS" / "test.jsonl")
    mirror_for_task(
        root / "data", "RuSTSBenchmarkSTS", {"default": {"test": sts_test, "validation": sts_test[:5]}}
    )
    # training sources: real train rows, plus planted copies of test sentences (exact after normalisation, and near)
    long = [r["sentence1"] for r in para_test if len(r["sentence1"]) > 60][:4]
    planted_exact = [f"  {s.upper()}  " for s in [r["sentence2"] for r in para_test[10:14]]]
    planted_near = [s[:-1] + ("!" if s[-1] != "!" else "?") for s in long]  # one character changed
    para_train = read_jsonl(shared_data / "train" / "paraphraser" / "train.jsonl")[:300]
    rows = [{"a": r["sentence1"], "b": r["sentence2"]} for r in para_train]
    rows += [{"a": e, "b": n} for e, n in zip(planted_exact, planted_near, strict=True)]
    (root / "para.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8"
    )
    stsb = read_jsonl(shared_data / "train" / "stsb_multi_mt" / "ru-train.jsonl")[:1500]
    sts_rows = [{"a": r["sentence1"], "b": r["sentence2"]} for r in stsb]
    (root / "stsb.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in sts_rows), encoding="utf-8"
    )
    config = {
        "base_model": "unused",
        "output_dir": str(root / "out"),
        "seed": 0,
        "datasets": [
            {"name": "paraphraser", "path": str(root / "para.jsonl"), "anchor": "a", "positive": "b"},
            {"name": "stsb_ru", "path": str(root / "stsb.jsonl"), "anchor": "a", "positive": "b"},
        ],
    }
    import yaml

    (root / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    sources = {
        "paraphraser": [t for r in rows for t in r.values()],
        "stsb_ru": [t for r in sts_rows for t in r.values()],
    }
    tasks = rumteb.get_tasks(["RUParaPhraserSTS", "RuSTSBenchmarkSTS"], data_dir=root / "data")
    report = find_contamination(sources, tasks, threshold=THRESHOLD)
    evaluation = {
        "RUParaPhraserSTS": {_norm(t) for r in para_test for t in (r["sentence1"], r["sentence2"])},
        "RuSTSBenchmarkSTS": {_norm(t) for r in sts_test for t in (r["sentence1"], r["sentence2"])},
    }
    return {"root": root, "report": report, "sources": sources, "evaluation": evaluation,
            "planted_exact": planted_exact, "planted_near": planted_near}  # fmt: skip


def test_exact_counts_equal_a_brute_force(setup: dict) -> None:
    report = setup["report"]
    for overlap in report.overlaps:
        train = {_norm(t) for t in setup["sources"][overlap.source]}
        assert overlap.texts == len(train)
        assert overlap.exact == len(train & setup["evaluation"][overlap.task]), overlap


def test_planted_duplicates_are_found_and_none_invented(setup: dict) -> None:
    report = setup["report"]
    para = {(o.source, o.task): o for o in report.overlaps}[("paraphraser", "RUParaPhraserSTS")]
    assert {_norm(t) for t in setup["planted_exact"]} <= report.contaminated["paraphraser"]
    assert {_norm(t) for t in setup["planted_near"]} <= report.contaminated["paraphraser"]
    for overlap in report.overlaps:
        train = {_norm(t) for t in setup["sources"][overlap.source]}
        brute = _brute_near(train, setup["evaluation"][overlap.task])
        assert overlap.near is not None and overlap.near <= len(brute), (
            overlap
        )  # nothing outside the brute force
        assert overlap.near >= 0.95 * len(brute), (
            overlap,
            len(brute),
        )  # LSH misses at most a few borderline pairs
        for train_text, eval_text, similarity in overlap.examples:
            assert similarity >= THRESHOLD and eval_text in setup["evaluation"][overlap.task]
            assert abs(jaccard(train_text, eval_text) - similarity) < 1e-12
    assert para.exact >= 4 and para.near >= 4


def test_the_cli_prints_the_table_and_writes_the_report(
    setup: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    root = setup["root"]
    out = root / "report.json"
    argv = ["contamination", str(root / "config.yaml"), "-t", "RUParaPhraserSTS", "RuSTSBenchmarkSTS"]
    assert main([*argv, "--data-dir", str(root / "data"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| paraphraser | RUParaPhraserSTS |" in text and "distinct texts contaminated" in text
    data = json.loads(out.read_text(encoding="utf-8"))
    by_pair = {(o["source"], o["task"]): o for o in data["overlaps"]}
    for overlap in setup["report"].overlaps:
        assert by_pair[(overlap.source, overlap.task)]["exact"] == overlap.exact
        assert by_pair[(overlap.source, overlap.task)]["near"] == overlap.near


def test_config_schema(tmp_path: Path) -> None:
    base = {
        "base_model": "m",
        "output_dir": "o",
        "datasets": [{"name": "p", "path": "p.jsonl", "anchor": "a", "positive": "b"}],
    }
    assert config_from_dict(base).exclude_contaminated is None
    assert config_from_dict({**base, "exclude_contaminated": True}).exclude_contaminated == ExcludeConfig()
    with pytest.raises(LookupError, match="Did you mean: threshold"):
        config_from_dict({**base, "exclude_contaminated": {"treshold": 0.9}})
    with pytest.raises(ValueError, match=r"exclude_contaminated.threshold.*Got 2"):
        config_from_dict({**base, "exclude_contaminated": {"threshold": 2}})
    with pytest.raises(ValueError, match="must be in \\(0, 1\\]"):
        find_contamination({}, [], threshold=0)
    assert normalise(" А  Б\u00a0в ") == "а б в"


@pytest.mark.usefixtures("single_threaded")
def test_training_drops_the_contaminated_examples(
    setup: dict, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rumteb.recipe.training import train

    root = setup["root"]
    config = config_from_dict({
        "base_model": str(tiny_model_path), "output_dir": str(root / "trained"), "seed": 0, "max_steps": 1,
        "batch_size": 8, "mini_batch_size": 8, "precision": "fp32", "max_seq_length": 32,
        "datasets": [{"name": "paraphraser", "path": str(root / "para.jsonl"), "anchor": "a", "positive": "b"}],
        "exclude_contaminated": {"data_dir": str(root / "data"), "benchmark": "ruMTEB", "threshold": THRESHOLD},
    })  # fmt: skip
    # only the two tasks mirrored here: the benchmark's others are not offline
    import rumteb.benchmark as benchmark

    monkeypatch.setitem(benchmark.BENCHMARK_TASKS, "ruMTEB", ("RUParaPhraserSTS", "RuSTSBenchmarkSTS"))
    result = train(config)
    bad = setup["report"].contaminated["paraphraser"]
    rows = read_jsonl(root / "para.jsonl")
    expected = sum(1 for r in rows if normalise(r["a"]) in bad or normalise(r["b"]) in bad)
    assert expected >= 4 and result.excluded == {"paraphraser": expected}
    record = json.loads((root / "trained" / "contamination.json").read_text(encoding="utf-8"))
    assert record["excluded_examples"] == {"paraphraser": expected}


# --- Hub training sources, read offline from a mirror -----------------------------------------------------------

REV = "0123456789abcdef0123456789abcdef01234567"


def _hub_config(root: Path, **source: object) -> dict[str, object]:
    spec = {
        "name": "pairs",
        "hub": "someorg/pairs",
        "revision": REV,
        "anchor": "q",
        "positive": "d",
        **source,
    }
    return {
        "base_model": "m",
        "output_dir": str(root / "out"),
        "data_dir": str(root / "mirror"),
        "datasets": [spec],
    }


def test_hub_source_schema(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="40-hex commit of someorg/pairs"):
        config_from_dict(_hub_config(tmp_path, revision="main"))
    with pytest.raises(ValueError, match="exactly one of 'path'"):
        config_from_dict(_hub_config(tmp_path, path="local.jsonl"))
    with pytest.raises(ValueError, match="Hub dataset id org/name"):
        config_from_dict(_hub_config(tmp_path, hub="../etc"))
    with pytest.raises(LookupError, match="Did you mean: revision"):
        config_from_dict(_hub_config(tmp_path, revison=REV))
    config = config_from_dict(_hub_config(tmp_path, config="ru", split="validation"))
    source = config.datasets[0]
    assert (source.hub, source.revision, source.config, source.split) == (
        "someorg/pairs",
        REV,
        "ru",
        "validation",
    )


def test_hub_source_is_read_offline_from_a_pulled_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from _helpers import make_mirror

    from rumteb.data import MissingDataError, RevisionMismatchError
    from rumteb.recipe.sources import load_source

    rows = [{"q": f"вопрос {i}", "d": f"ответ {i}", "label": i % 2} for i in range(20)]
    config = config_from_dict(_hub_config(tmp_path, where={"label": 1}))
    with pytest.raises(MissingDataError, match="rumteb data pull --config"):
        load_source(config.datasets[0], 0, config.data_dir)
    # `rumteb data pull --config` through a stand-in for the Hub download
    upstream = make_mirror(tmp_path / "hub", "someorg/pairs", {"default": {"train": rows}})

    def download(repo_id: str, revision: str, local_dir: Path, patterns: object) -> None:
        assert (repo_id, revision, patterns) == ("someorg/pairs", REV, None)
        shutil.copytree(upstream, local_dir)

    monkeypatch.setattr("rumteb.data.pulling._hub_download", download)
    yaml_path = tmp_path / "config.yaml"
    import yaml

    yaml_path.write_text(yaml.safe_dump(_hub_config(tmp_path, where={"label": 1})), encoding="utf-8")
    assert main(["data", "pull", "--config", str(yaml_path), "--to", str(tmp_path / "mirror")]) == 0
    assert f"someorg/pairs@{REV[:10]}" in capsys.readouterr().out
    data = load_source(config.datasets[0], 0, config.data_dir)
    assert sorted(data["anchor"]) == sorted(r["q"] for r in rows if r["label"] == 1)
    other = config_from_dict(_hub_config(tmp_path, revision="f" * 40))
    with pytest.raises(RevisionMismatchError, match=REV):
        load_source(other.datasets[0], 0, other.data_dir)
