"""The Hub over HTTP: ``rumteb data pull`` and online runs with the real huggingface_hub and datasets clients,
against a local Hub server on 127.0.0.1 (`_helpers.hub_server`) holding repositories built from ../shared/data.

Every command runs in a subprocess with ``HF_ENDPOINT`` at the server, the offline variables unset and an empty HF
cache of its own: huggingface_hub and datasets read those variables into module constants at import, so a fresh
process is the only clean way to go online. No other host is contacted.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _helpers import REPO_ROOT
from _helpers.hub_repos import MIRACL_LANGS, TRAIN_REPO, TRAIN_REVISION, miracl_repo, task_repos, train_repo
from _helpers.hub_server import HubServer

import rumteb
from rumteb import data

TASKS = ["TERRa", "RUParaPhraserSTS", "CEDRClassification"]
TERRA_FILE = "default/dev-00000-of-00001.parquet"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[HubServer]:
    work = tmp_path_factory.mktemp("hub-repos")
    hub = HubServer(
        [*task_repos(shared_data, work), miracl_repo(work), train_repo(shared_data, work)]
    ).start()
    yield hub
    hub.stop()


@pytest.fixture
def hub(server: HubServer) -> HubServer:
    server.reset()
    return server


def _env(tmp_path: Path, endpoint: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")}
    env.pop("TRANSFORMERS_OFFLINE", None)
    env.update(
        HF_ENDPOINT=endpoint,
        HF_HOME=str(tmp_path / "hf-home"),  # an empty HF cache per test
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        HF_HUB_ETAG_TIMEOUT="5",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONPATH=str(REPO_ROOT),
        TOKENIZERS_PARALLELISM="false",
        OMP_NUM_THREADS="1",
    )
    env.update(extra)
    return env


def _rumteb(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rumteb", *args], env=env, capture_output=True, text=True, timeout=240
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("rumteb: error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _scores(output: Path) -> dict[str, float]:
    scores = {}
    for path in output.rglob("*.json"):
        if path.name == "model_meta.json":
            continue
        result = json.loads(path.read_text())
        ((entry, *_),) = result["scores"].values()  # one split per task here
        scores[result["task_name"]] = float(entry["main_score"])
    return scores


def _dead_endpoint() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _pinned(task: str) -> tuple[str, str]:
    dataset = rumteb.get_task(task).metadata.dataset
    return dataset["path"], dataset["revision"]


# --- rumteb data pull --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pulled(server: HubServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """One pull of the three tasks and MIRACLRetrieval through the server, with the server's log of it."""
    server.reset()
    tmp = tmp_path_factory.mktemp("pull")
    result = _rumteb(
        _env(tmp, server.url), "data", "pull", "--tasks", *TASKS, "MIRACLRetrieval", "--to", str(tmp / "m")
    )
    assert result.returncode == 0, result.stderr
    return tmp / "m", list(server.log)


def test_pull_downloads_each_repository_once_at_the_pinned_revision(server: HubServer, pulled: tuple) -> None:
    mirror, log = pulled
    for task in [*TASKS, "MIRACLRetrieval"]:
        repo_id, revision = _pinned(task)
        trees = [e for e in log if e.path.startswith(f"/api/datasets/{repo_id}/tree/")]
        assert [e.path.rsplit("/", 1)[1] for e in trees] == [revision]  # listed once, at the pin
        gets = [e for e in log if e.method == "GET" and e.path.startswith(f"/datasets/{repo_id}/resolve/")]
        assert gets and all(f"/resolve/{revision}/" in e.path for e in gets)
        assert len({e.path for e in gets}) == len(gets)  # each file once
        manifest = data.read_manifest(data.dataset_folder(mirror, repo_id) / data.MANIFEST)
        assert manifest.revision == revision
        _, files = server.repos[repo_id].files_at(revision)  # type: ignore[misc]

        for rel, entry in manifest.files.items():
            assert entry.sha256 == hashlib.sha256(files[rel]).hexdigest(), rel
    report = data.verify(mirror)
    assert report.ok and not report.unverified, report.problems


def test_pull_of_per_language_configs_asks_only_for_russian_files(pulled: tuple) -> None:
    _, log = pulled
    repo_id, revision = _pinned("MIRACLRetrieval")
    asked = {
        e.path.split(f"/resolve/{revision}/", 1)[1] for e in log if f"/datasets/{repo_id}/resolve/" in e.path
    }
    assert asked == {
        "README.md",
        "ru-corpus/dev-00000-of-00001.parquet",
        "ru-queries/dev-00000-of-00001.parquet",
        "ru-qrels/dev-00000-of-00001.parquet",
    }
    others = [lang for lang in MIRACL_LANGS if lang != "ru"]
    assert not any(f"/{lang}-" in e.path for e in log for lang in others)


def test_cut_connection_is_resumed_and_a_failed_pull_leaves_the_mirror(
    hub: HubServer, tmp_path: Path
) -> None:
    repo_id, _ = _pinned("TERRa")
    env = _env(tmp_path, hub.url)
    hub.drop(repo_id, TERRA_FILE)
    first = _rumteb(env, "data", "pull", "--tasks", "TERRa", "--to", str(tmp_path / "m"))
    assert first.returncode == 0, first.stderr
    cut = [e for e in hub.log if e.status == -1]
    assert len(cut) == 1 and cut[0].path.endswith(TERRA_FILE)
    # huggingface_hub asked again (from byte 0: a partial chunk under its 10 MB read size is never written)
    after = hub.log[hub.log.index(cut[0]) + 1 :]
    assert [e.status for e in after if e.path == cut[0].path and e.method == "GET"] == [200]
    assert data.verify(tmp_path / "m").ok
    before = {p: p.read_bytes() for p in (tmp_path / "m").rglob("*") if p.is_file()}
    # a connection cut every time: the pull fails in one line and the existing mirror stays as it was
    hub.drop(repo_id, TERRA_FILE, times=50, keep=0.0)
    second = _rumteb(
        _env(tmp_path / "again", hub.url), "data", "pull", "--tasks", "TERRa", "--to", str(tmp_path / "m")
    )
    line = _one_error_line(second)
    assert repo_id in line and "run the same command again" in line
    assert {p: p.read_bytes() for p in (tmp_path / "m").rglob("*") if p.is_file()} == before
    hub.reset()
    third = _rumteb(
        _env(tmp_path / "third", hub.url), "data", "pull", "--tasks", "TERRa", "--to", str(tmp_path / "m")
    )
    assert third.returncode == 0, third.stderr
    assert data.verify(tmp_path / "m").ok


@pytest.mark.parametrize(
    ("status", "expected"), [(404, "not found (HTTP 404)"), (401, "HF_TOKEN"), (429, "rate limited")]
)
def test_hub_refusals_are_one_line_naming_the_repository(
    hub: HubServer, tmp_path: Path, status: int, expected: str
) -> None:
    repo_id, _ = _pinned("TERRa")
    hub.fail(repo_id, status)
    result = _rumteb(
        _env(tmp_path, hub.url, HF_HUB_DOWNLOAD_TIMEOUT="5"),
        "data",
        "pull",
        "--tasks",
        "TERRa",
        "--to",
        str(tmp_path),
    )
    line = _one_error_line(result)
    assert repo_id in line and expected in line
    assert not (tmp_path / "mteb" / "TERRa").exists()


def test_429_is_retried_with_backoff(hub: HubServer, tmp_path: Path) -> None:
    repo_id, _ = _pinned("TERRa")
    hub.fail(repo_id, 429, times=2)
    result = _rumteb(_env(tmp_path, hub.url), "data", "pull", "--tasks", "TERRa", "--to", str(tmp_path / "m"))
    assert result.returncode == 0, result.stderr
    statuses = [e.status for e in hub.log]
    assert statuses[:3] == [429, 429, 200]
    assert data.verify(tmp_path / "m").ok


def test_pull_config_fetches_hub_training_sources(hub: HubServer, tmp_path: Path) -> None:
    import yaml

    from rumteb.recipe.config import load_config
    from rumteb.recipe.sources import load_source

    shipped = REPO_ROOT / "rumteb" / "recipe" / "configs" / "ru-en-rosberta.yaml"
    config = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    config["datasets"] = [
        {
            "name": "para",
            "hub": TRAIN_REPO,
            "revision": TRAIN_REVISION,
            "anchor": "sentence1",
            "positive": "sentence2",
        }
    ]
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = _rumteb(
        _env(tmp_path, hub.url), "data", "pull", "--config", str(path), "--to", str(tmp_path / "m")
    )
    assert result.returncode == 0, result.stderr
    files = [e.path for e in hub.requested(TRAIN_REPO) if "/resolve/" in e.path]
    assert files and {p.split("/resolve/")[1].split("/")[0] for p in files} == {TRAIN_REVISION}
    assert data.verify(tmp_path / "m").ok
    rows = load_source(load_config(path).datasets[0], seed=0, data_dir=tmp_path / "m")
    assert len(rows) == 200


# --- online runs ---------------------------------------------------------------------------------------------------


def test_online_run_reads_the_pin_and_scores_as_the_mirror(
    hub: HubServer, pulled: tuple, tiny_model_path: Path, tmp_path: Path
) -> None:
    mirror, _ = pulled
    run = [
        "run",
        "-m",
        str(tiny_model_path),
        "-t",
        *TASKS,
        "--device",
        "cpu",
        "--encoder",
        "sentence-transformers",
    ]
    # One process (one import of torch and mteb) for three runs: `rumteb run` online, `rumteb run` on the pulled
    # mirror, and mteb.evaluate on rumteb's tasks online.
    script = (
        "import json, sys, mteb, rumteb\n"
        "from rumteb.cli import main\n"
        "from sentence_transformers import SentenceTransformer\n"
        f"assert main({[*run, '--output-folder', str(tmp_path / 'online')]!r}) == 0\n"
        f"assert main({[*run, '--data-dir', str(mirror), '--output-folder', str(tmp_path / 'mirror')]!r}) == 0\n"
        f"model = SentenceTransformer({str(tiny_model_path)!r}, device='cpu')\n"
        f"res = mteb.evaluate(model, rumteb.get_tasks({TASKS!r}), cache=None)\n"
        "print(json.dumps({r.task_name: r.get_score() for r in res.task_results}))\n"
    )
    env = _env(tmp_path, hub.url)
    runs = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert runs.returncode == 0, runs.stderr
    for task in TASKS:
        repo_id, revision = _pinned(task)
        commits = hub.repos[repo_id].commits
        assert commits[0][0] == revision
        asked = [e for e in hub.log if f"/{repo_id}/" in e.path]
        print("\n".join(f"{e.method} {e.path} {e.status}" for e in asked))
        assert any(f"/resolve/{revision}/" in e.path for e in asked)
        assert not any(commits[-1][0] in e.path or "/main" in e.path for e in asked)  # never the later commit
    scores = _scores(tmp_path / "online")
    assert sorted(scores) == sorted(TASKS)
    assert scores == _scores(tmp_path / "mirror")
    # result files keep main scores to 6 decimals; mteb.evaluate returns them unrounded
    assert json.loads(runs.stdout.strip().splitlines()[-1]) == pytest.approx(scores, abs=5e-7)
    # offline with the warm HF cache, the server out of reach: the same scores again
    dead = _env(tmp_path, _dead_endpoint(), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    again = _rumteb(dead, *run, "--output-folder", str(tmp_path / "offline"))
    assert again.returncode == 0, again.stderr
    assert _scores(tmp_path / "offline") == scores


def test_unreachable_hub_fails_in_one_line_before_the_model_loads(
    tiny_model_path: Path, tmp_path: Path
) -> None:
    endpoint = _dead_endpoint()  # the server stopped: nothing listens there
    result = _rumteb(
        _env(tmp_path, endpoint), "run", "-m", str(tiny_model_path), "-t", "TERRa", "--device", "cpu"
    )
    line = _one_error_line(result)
    assert "mteb/TERRa" in line and endpoint in line and "connection" in line
    assert "Loading weights" not in result.stderr  # the model never loaded


# --- offline on the Hub cache: which warm caches a run may use ----------------------------------------------------


@pytest.mark.parametrize(
    ("task", "snapshots", "allowed"),
    [
        ("TERRa", ["pinned"], True),
        ("TERRa", ["pinned", "other"], False),  # datasets would read either: refused
        ("TERRa", [], False),
        (
            "MIRACLRetrieval",
            ["pinned"],
            False,
        ),  # offline, datasets lists only `default`: never from the cache
    ],
)
def test_offline_run_uses_the_hub_cache_only_when_it_holds_just_the_pin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, task: str, snapshots: list[str], allowed: bool
) -> None:
    from huggingface_hub import constants

    from rumteb.data.preflight import check_data_sources

    repo_id, revision = _pinned(task)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    for name in snapshots:
        folder = (
            tmp_path
            / f"datasets--{repo_id.replace('/', '--')}"
            / "snapshots"
            / (revision if name == "pinned" else "0" * 40)
        )
        folder.mkdir(parents=True)
        (folder / "README.md").write_text("---\n---\n")
    tasks = [rumteb.get_task(task)]
    if allowed:
        check_data_sources(tasks)
    else:
        with pytest.raises(data.MissingDataError, match="HF_HUB_OFFLINE=1"):
            check_data_sources(tasks)


def test_pull_while_offline_names_the_variable(tmp_path: Path) -> None:
    # in this process huggingface_hub is offline (tests/conftest.py): no request leaves it
    with pytest.raises(data.HubError, match=r"mteb/TERRa@48312c334e .*HF_HUB_OFFLINE=1"):
        data.pull(rumteb.get_tasks(["TERRa"]), tmp_path / "m")
    assert not any((tmp_path / "m").rglob("*"))


def test_server_answers_ranges_and_paths_info(hub: HubServer) -> None:
    import urllib.request

    repo_id, revision = _pinned("TERRa")
    _, files = hub.repos[repo_id].files_at(revision)  # type: ignore[misc]
    url = f"{hub.url}/datasets/{repo_id}/resolve/{revision}/{TERRA_FILE}"
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Range": "bytes=10-19"})) as response:
        assert response.status == 206 and response.read() == files[TERRA_FILE][10:20]
        assert response.headers["Content-Range"] == f"bytes 10-19/{len(files[TERRA_FILE])}"
        assert response.headers["X-Repo-Commit"] == revision
    request = urllib.request.Request(
        f"{hub.url}/api/datasets/{repo_id}/paths-info/{revision}",
        data=json.dumps({"paths": [TERRA_FILE, "default", "nope"]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        entries = json.loads(response.read())
    assert [(e["path"], e["type"]) for e in entries] == [(TERRA_FILE, "file"), ("default", "directory")]


def test_gated_dataset_fails_a_run_in_one_line_before_the_model_loads(
    hub: HubServer, tiny_model_path: Path, tmp_path: Path
) -> None:
    hub.fail("mteb/CEDRClassification", 401)
    result = _rumteb(
        _env(tmp_path, hub.url), "run", "-m", str(tiny_model_path), "-t", *TASKS, "--device", "cpu"
    )
    line = _one_error_line(result)
    assert "mteb/CEDRClassification" in line and "HF_TOKEN" in line and "CEDRClassification)" in line
    assert "Loading weights" not in result.stderr
    assert not [e for e in hub.log if "/resolve/" in e.path]  # nothing downloaded before the refusal


def test_hub_lost_mid_run_is_one_line_and_keeps_the_finished_tasks(
    hub: HubServer, tiny_model_path: Path, tmp_path: Path
) -> None:
    """The check before the model loads passes; the second task's data file is then cut on every request: one
    line naming its dataset, TERRa's result kept, and the same command finishes once the Hub is back."""
    repo_id, _ = _pinned("RUParaPhraserSTS")
    hub.drop(repo_id, "default/test-00000-of-00001.parquet", times=50, keep=0.0)
    env = _env(tmp_path, hub.url)
    run = ["run", "-m", str(tiny_model_path), "-t", "TERRa", "RUParaPhraserSTS", "--device", "cpu"]
    run += ["--output-folder", str(tmp_path / "out")]
    result = _rumteb(env, *run)
    line = _one_error_line(result)
    assert repo_id in line and "could not be downloaded" in line, line
    assert "results of TERRa are saved" in line, line
    assert sorted(_scores(tmp_path / "out")) == ["TERRa"]
    hub.reset()
    again = _rumteb(env, *run)
    assert again.returncode == 0, again.stderr
    assert sorted(_scores(tmp_path / "out")) == ["RUParaPhraserSTS", "TERRa"]
