"""Hub training sources pinned at pull time: ``revision: pin-at-pull``, the lock file, column checks at the pull,
the shipped configs, and training on what was pulled.

The pulls run ``rumteb data pull --config`` in a subprocess against the local Hub server (`_helpers.hub_server`)
holding stand-ins named like the paper's sources (`_helpers.hub_repos.source_repos`); training and the refusals run
in this process, offline, on the pulled mirror.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from _helpers import REPO_ROOT
from _helpers.hub_repos import HABR, NEWS_COMMENTARY, PIKABU, SOURCE_ROWS, STACKOVERFLOW, source_repos
from _helpers.hub_server import HubServer

from rumteb import data
from rumteb.cli import main
from rumteb.errors import ConfigError
from rumteb.recipe.columns import column_problems, extract, feature_columns
from rumteb.recipe.config import config_from_dict, load_config, shipped_configs
from rumteb.recipe.lock import UnpinnedSourceError, apply_lock, read_lock

SHIPPED = shipped_configs()


def _source(**extra: object) -> dict[str, object]:
    return {
        "name": "s",
        "hub": "org/data",
        "revision": "pin-at-pull",
        "anchor": "a",
        "positive": "b",
        **extra,
    }


def _config(*datasets: dict[str, object], **extra: object) -> dict[str, object]:
    return {"base_model": "m", "output_dir": "o", "datasets": list(datasets), **extra}


# --- the config's schema ------------------------------------------------------------------------------------------


def test_revision_is_a_commit_or_pin_at_pull_and_unknown_columns_have_no_roles() -> None:
    assert config_from_dict(_config(_source())).datasets[0].revision == "pin-at-pull"
    with pytest.raises(
        ValueError, match=r"'datasets.revision' .* must be the 40-hex commit of org/data, or 'pin"
    ):
        config_from_dict(_config(_source(revision="main")))
    unknown = config_from_dict(
        _config({"name": "s", "hub": "org/data", "revision": "pin-at-pull", "columns": "unknown"})
    )
    assert unknown.datasets[0].columns_unknown and not unknown.datasets[0].pinned
    with pytest.raises(ConfigError, match="says 'columns: unknown' but also sets anchor, positive"):
        config_from_dict(_config(_source(columns="unknown")))
    with pytest.raises(ValueError, match=r"'datasets.anchor' parameter .* must be a column name"):
        config_from_dict(_config(_source(anchor="answers..text")))
    with pytest.raises(ValueError, match=r"'datasets.data_files' .* unset for a local 'path' source"):
        config_from_dict(
            _config({"name": "p", "path": "p.jsonl", "anchor": "a", "positive": "b", "data_files": ["x"]})
        )


def test_shipped_recipe_names_the_public_sources_and_no_checkout_path(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["train", "--dump-config", "ru-en-rosberta"]) == 0
    dumped = capsys.readouterr().out
    assert "../shared" not in dumped and "path:" not in dumped
    config = load_config(SHIPPED["ru-en-rosberta"])
    hubs = {d.hub for d in config.datasets}
    for repo in (
        "IlyaGusev/yandex_q_full",
        "IlyaGusev/pikabu",
        "IlyaGusev/ru_stackoverflow",
        "IlyaGusev/habr",
    ):
        assert repo in hubs
    assert {"its5Q/habr_qna", "Helsinki-NLP/news_commentary", "facebook/xnli"} <= hubs
    assert all(d.hub is not None and d.revision == "pin-at-pull" for d in config.datasets)
    # every source has its roles, or says columns: unknown with a comment giving the reason
    raw = yaml.compose(SHIPPED["ru-en-rosberta"].read_text(encoding="utf-8"))
    text = SHIPPED["ru-en-rosberta"].read_text(encoding="utf-8").splitlines()
    assert raw is not None
    for spec in config.datasets:
        assert spec.columns_unknown or (spec.anchor and spec.positive), spec.name
    for index, line in enumerate(text):
        if line.strip() == "columns: unknown":
            block = "\n".join(text[max(0, index - 5) : index])
            assert "could be read" in block or "could not be read" in block, block
    local = load_config(SHIPPED["ru-en-rosberta-local"])
    assert all(d.path is not None and "../shared/data" in d.path for d in local.datasets)


# --- columns: nested fields and lists -----------------------------------------------------------------------------


def test_columns_of_nested_features_and_the_problems_of_a_mapping() -> None:
    import datasets

    features = datasets.Features(
        {
            "title": datasets.Value("string"),
            "score": datasets.Value("int32"),
            "answers": datasets.List({"text": datasets.Value("string"), "score": datasets.Value("int32")}),
            "translation": datasets.Translation(languages=["en", "ru"]),
        }
    )
    columns = feature_columns(features)
    assert columns == {
        "title": ("string", 0),
        "score": ("int32", 0),
        "answers.text": ("string", 1),
        "answers.score": ("int32", 1),
        "translation.en": ("string", 0),
        "translation.ru": ("string", 0),
    }
    good = config_from_dict(
        _config(_source(anchor="translation.ru", positive="answers.text[0]", where={"score": 1}))
    )
    assert column_problems(good.datasets[0], columns) == {}
    bad = config_from_dict(
        _config(_source(anchor="body", positive="answers.text", negatives=["score"], where={"title[0]": "x"}))
    )
    assert column_problems(bad.datasets[0], columns) == {
        "anchor": "anchor: body is not a column of the data",
        "positive": "positive: answers.text is a list (list of string): take one item, e.g. answers.text[0]",
        "negatives": "negatives: score is int32, not text",
        "where.title[0]": "where.title[0]: title[0] takes an item of title, which is not a list",
    }
    row = {"answers": [{"text": "a"}, {"text": "b"}], "translation": {"en": "x", "ru": "y"}}
    assert (
        extract(row, "answers.text[1]"),
        extract(row, "translation.ru"),
        extract(row, "answers.text[5]"),
    ) == (
        "b",
        "y",
        None,
    )
    assert (
        extract({"answers": {"text": ["a", "b"]}}, "answers.text[0]") == "a"
    )  # datasets' Sequence of a struct


# --- the lock -----------------------------------------------------------------------------------------------------


def test_unpinned_source_without_a_lock_is_one_line_naming_the_pull(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(_config(_source(), data_dir=str(tmp_path / "mirror"))), encoding="utf-8")
    with pytest.raises(
        UnpinnedSourceError, match=r"run 'rumteb data pull --config recipe --to .*mirror' first"
    ):
        apply_lock(load_config(path), "recipe")
    assert main(["train", str(path)]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("rumteb: error: The training source 's' (org/data)")
    assert "rumteb data pull --config recipe --to" in lines[0]
    # training itself refuses it too, before any model loads
    from rumteb.recipe.training import train

    with pytest.raises(UnpinnedSourceError, match="rumteb data pull --config CONFIG --to DIR"):
        train(load_config(path))


# --- pulls through the local Hub ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[HubServer]:
    hub = HubServer(source_repos(shared_data, tmp_path_factory.mktemp("source-repos"))).start()
    yield hub
    hub.stop()


def _pull(server: HubServer, config: Path, mirror: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    offline = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")
    env = {k: v for k, v in os.environ.items() if k not in offline}
    env.update(
        HF_ENDPOINT=server.url,
        HF_HOME=str(tmp / "hf-home"),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONPATH=str(REPO_ROOT),
        OMP_NUM_THREADS="1",
    )
    command = [sys.executable, "-m", "rumteb", "data", "pull", "--config", str(config), "--to", str(mirror)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)


def _recipe(folder: Path, mirror: Path, model: str, *, habr: bool = True) -> Path:
    """A small training config named ``recipe`` over the stand-ins (written in ``folder``)."""
    base = yaml.safe_load(SHIPPED["ru-en-rosberta-local"].read_text(encoding="utf-8"))
    sources: list[dict[str, object]] = [
        {
            "name": "stackoverflow",
            "hub": STACKOVERFLOW,
            "revision": "pin-at-pull",
            "anchor": "title",
            "positive": "answers.text_markdown[0]",
            "prefixes": {"anchor": "search_query: ", "positive": "search_document: "},
        },
        {
            "name": "news",
            "hub": NEWS_COMMENTARY,
            "revision": "pin-at-pull",
            "config": "en-ru",
            "anchor": "translation.ru",
            "positive": "translation.en",
        },
    ]
    if habr:
        sources.append(
            {
                "name": "habr",
                "hub": HABR,
                "revision": "pin-at-pull",
                "data_files": ["habr.jsonl"],
                "columns": "unknown",
            }
        )
    small = {"max_seq_length": 32, "batch_size": 8, "mini_batch_size": 8, "max_steps": 4, "save_steps": 0}
    config = {
        **base,
        **small,
        "base_model": model,
        "output_dir": str(folder / "run"),
        "data_dir": str(mirror),
    }
    config.update(precision="fp32", logging_steps=1, datasets=sources)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "recipe.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return folder / "recipe.yaml"


@pytest.fixture(scope="module")
def pulled(server: HubServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """One pull of the stand-ins: the mirror, the config, and the pull's stdout."""
    tmp = tmp_path_factory.mktemp("pull")
    config = _recipe(tmp / "config", tmp / "mirror", "unused")
    result = _pull(server, config, tmp / "mirror", tmp)
    assert result.returncode == 0, result.stderr
    return tmp / "mirror", config, result.stdout


def test_pull_locks_the_commit_it_downloads_with_the_files_sha256(server: HubServer, pulled: tuple) -> None:
    import hashlib

    mirror, _, stdout = pulled
    lock = read_lock(mirror / "recipe.lock.yaml")
    main_commit = server.repos[STACKOVERFLOW].commits[-1][0]
    assert lock["stackoverflow"].commit == main_commit  # main's newest commit, not the first one
    assert (lock["news"].repo, lock["news"].config, lock["news"].split) == (NEWS_COMMENTARY, "en-ru", "train")
    for name, repo in (("stackoverflow", STACKOVERFLOW), ("news", NEWS_COMMENTARY), ("habr", HABR)):
        entry = lock[name]
        _, files = server.repos[repo].files_at(entry.commit)  # type: ignore[misc]
        assert entry.files and entry.files == {
            rel: hashlib.sha256(content).hexdigest() for rel, content in files.items() if rel in entry.files
        }
        assert data.read_manifest(data.dataset_folder(mirror, repo) / data.MANIFEST).revision == entry.commit
        assert f"{name}: {repo}@{entry.commit}" in stdout
    assert set(lock["habr"].files) == {"README.md", "habr.jsonl"}  # data_files: the script was not pulled
    assert data.verify(mirror).ok


def test_pull_prints_the_columns_of_a_source_with_unknown_columns(pulled: tuple) -> None:
    _, _, stdout = pulled
    assert "habr says 'columns: unknown'; the columns of IlyaGusev/habr@" in stdout
    for line in ("  id: int64", "  title: string", "  lead_markdown: string", "  tags: list of string"):
        assert line in stdout.splitlines()


def test_pull_with_other_columns_stops_in_one_line_listing_them(server: HubServer, tmp_path: Path) -> None:
    config = {
        "base_model": "m",
        "output_dir": "o",
        "datasets": [
            {
                "name": "pikabu",
                "hub": PIKABU,
                "revision": "pin-at-pull",
                "anchor": "title",
                "positive": "text_markdown",
            }
        ],
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    result = _pull(server, path, tmp_path / "mirror", tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    line_no = path.read_text().splitlines().index("  positive: text_markdown") + 1
    assert line.startswith("rumteb: error: The training source 'pikabu' (IlyaGusev/pikabu@")
    assert "positive: text_markdown is not a column of the data" in line
    assert "The data's columns: title: string, body: string" in line
    assert f"Change these lines of {path}: positive (line {line_no})" in line
    assert not (tmp_path / "mirror" / "bad.lock.yaml").exists()


def test_training_reads_the_lock_refuses_unknown_columns_and_records_the_commits(
    pulled: tuple, tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mirror, _, _ = pulled
    lock = read_lock(mirror / "recipe.lock.yaml")
    with_habr = _recipe(tmp_path / "a", mirror, str(tiny_model_path))
    assert main(["train", str(with_habr)]) == 1
    err = capsys.readouterr().err.strip()
    assert (
        err.count("\n") == 0 and "The training source 'habr' (IlyaGusev/habr) says 'columns: unknown'" in err
    )
    config = _recipe(tmp_path / "b", mirror, str(tiny_model_path), habr=False)
    assert main(["train", str(config)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    for name, repo in (("stackoverflow", STACKOVERFLOW), ("news", NEWS_COMMENTARY)):
        assert f"trained on {name}: {repo}@{lock[name].commit}" in out
    saved = load_config(tmp_path / "b" / "run" / "final" / "training_config.yaml")
    assert {d.name: d.revision for d in saved.datasets} == {
        n: lock[n].commit for n in ("stackoverflow", "news")
    }
    # the rows it read: nested fields and an item of a list, all the stand-ins' rows
    from rumteb.recipe.sources import load_source

    rows = load_source(saved.datasets[0], seed=0, data_dir=mirror)
    assert len(rows) == SOURCE_ROWS and rows.column_names == ["anchor", "positive"]
    news = load_source(saved.datasets[1], seed=0, data_dir=mirror)
    assert len(news) == SOURCE_ROWS and all(isinstance(t, str) and t for t in news["positive"])


def test_shipped_recipe_mapping_is_checked_against_the_data_in_a_pull(tmp_path: Path) -> None:
    """The shipped config pulled (without the Hub: a downloader writing stand-ins) against data whose pikabu
    posts have other columns: the line names the shipped file's lines and says to edit a copy."""
    import json

    import zstandard

    from rumteb.recipe.columns import ColumnMismatchError
    from rumteb.recipe.source_pull import pull_sources

    def download(repo_id: str, revision: str, local_dir: Path, patterns: list[str] | None) -> None:
        local_dir.mkdir(parents=True, exist_ok=True)
        rows = [{"title": f"t{i}", "body": f"b{i}"} for i in range(3)]
        lines = "".join(json.dumps(r) + "\n" for r in rows).encode()
        (local_dir / "00.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(lines))

    path = SHIPPED["ru-en-rosberta"]
    with pytest.raises(
        ColumnMismatchError
    ) as raised:  # yandex_q (columns: unknown) passes, pikabu stops the pull
        pull_sources(
            load_config(path),
            "ru-en-rosberta",
            tmp_path,
            config_path=path,
            resolve=lambda _: "c" * 40,
            download=download,
        )
    message = str(raised.value)
    line = path.read_text(encoding="utf-8").splitlines().index("    positive: text_markdown") + 1
    assert "The data's columns: title: string, body: string" in message
    assert f"positive (line {line})" in message and "shipped: edit a copy" in message
    assert not (tmp_path / "ru-en-rosberta.lock.yaml").exists()
