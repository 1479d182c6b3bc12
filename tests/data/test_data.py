"""Offline mirrors: resolve, load, pull (against a local stand-in for the Hub), verify, and bad input."""

from __future__ import annotations

import fnmatch
import json
import logging
import shutil
from pathlib import Path

import pytest
from _helpers import make_mirror, mirror_for_task
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rumteb
from rumteb import data
from rumteb.cli import main

TERRA_REV = "48312c334eb916d88481dc4a41bd0d8b2fa0d576"
TERRA_ROWS = {
    "dev": [
        {"sentence1": f"Кошка сидит на окне номер {i}.", "sentence2": f"На окне {i} кошка.", "labels": i % 2}
        for i in range(12)
    ]
}


class FakeHub:
    """A stand-in for huggingface_hub.snapshot_download that serves repositories from a local folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.calls: list[tuple[str, str, list[str] | None]] = []

    def __call__(
        self, repo_id: str, revision: str, local_dir: Path, allow_patterns: list[str] | None
    ) -> None:
        self.calls.append((repo_id, revision, allow_patterns))
        source = self.root.joinpath(*repo_id.split("/"))
        if not source.is_dir():
            raise FileNotFoundError(f"404: {repo_id}")
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            rel = path.relative_to(source).as_posix()
            if allow_patterns is None or any(fnmatch.fnmatch(rel, pat) for pat in allow_patterns):
                (local_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, local_dir / rel)
        # snapshot_download keeps its own bookkeeping inside local_dir; a mirror must ignore it
        (local_dir / ".cache" / "huggingface").mkdir(parents=True, exist_ok=True)
        (local_dir / ".cache" / "huggingface" / "x.metadata").write_text(revision)


@pytest.fixture
def hub(tmp_path: Path) -> FakeHub:
    root = tmp_path / "hub"
    make_mirror(root, "mteb/TERRa", {"default": TERRA_ROWS})
    sci = {"default": {"test": [{"text": f"статья {i}", "label": i % 3} for i in range(9)]}}
    make_mirror(root, "ai-forever/ru-scibench-grnti-classification", sci)
    miracl = {
        f"{lang}-{part}": {"dev": [{"id": "1", "text": f"{lang} {part}"}]}
        for lang in ("ru", "de", "fr")
        for part in ("corpus", "queries")
    }
    make_mirror(root, "mteb/MIRACLRetrieval", miracl)
    return FakeHub(root)


# --- resolving the data folder -----------------------------------------------------------------------------------


def test_env_var_selects_the_mirror(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert data.resolve_data_dir(None) is None
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    assert data.resolve_data_dir(None) == tmp_path
    other = tmp_path / "other"
    other.mkdir()
    assert data.resolve_data_dir(other) == other  # the argument wins over the environment


def test_missing_data_dir_names_path_and_fix(tmp_path: Path) -> None:
    with pytest.raises(data.MissingDataError, match=r"'.*nowhere'.*rumteb data pull --benchmark ruMTEB --to"):
        data.resolve_data_dir(tmp_path / "nowhere")


def test_missing_dataset_folder_names_expected_path_and_pull_command(tmp_path: Path) -> None:
    task = rumteb.get_task("TERRa", data_dir=tmp_path)
    expected = str(tmp_path / "mteb" / "TERRa")
    with pytest.raises(data.MissingDataError) as err:
        task.load_data()
    assert expected in str(err.value)
    assert f"rumteb data pull --tasks TERRa --to {tmp_path}" in str(err.value)


# --- loading from a mirror -----------------------------------------------------------------------------------------


def test_task_loads_from_mirror_and_keeps_its_published_metadata(tmp_path: Path) -> None:
    mirror_for_task(tmp_path, "TERRa", {"default": TERRA_ROWS})
    task = rumteb.get_task("TERRa", data_dir=tmp_path)
    task.load_data()
    assert len(task.dataset["dev"]) == 12
    assert task.metadata.dataset == {"path": "mteb/TERRa", "revision": TERRA_REV}
    assert "metadata" not in vars(task)


def test_env_var_is_read_at_load_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    mirror_for_task(tmp_path, "TERRa", {"default": TERRA_ROWS})
    task = rumteb.get_task("TERRa")
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    task.load_data()
    assert task.dataset["dev"][0]["sentence1"].startswith("Кошка")


def test_revision_mismatch_is_an_error(tmp_path: Path) -> None:
    make_mirror(tmp_path, "mteb/TERRa", {"default": TERRA_ROWS}, revision="0" * 40)
    with pytest.raises(
        data.RevisionMismatchError, match=rf"revision 0{{40}} of mteb/TERRa, but the task pins {TERRA_REV}"
    ):
        rumteb.get_task("TERRa", data_dir=tmp_path).load_data()


def test_folder_without_manifest_loads_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_mirror(tmp_path, "mteb/TERRa", {"default": TERRA_ROWS})
    with caplog.at_level(logging.WARNING, logger="rumteb.data"):
        task = rumteb.get_task("TERRa", data_dir=tmp_path)
        task.load_data()
    assert len(task.dataset["dev"]) == 12
    assert "revision is unverified" in caplog.text and TERRA_REV in caplog.text


def test_changed_size_or_missing_file_is_refused_at_load(tmp_path: Path) -> None:
    folder = mirror_for_task(tmp_path, "TERRa", {"default": TERRA_ROWS})
    parquet = next(folder.rglob("*.parquet"))
    parquet.write_bytes(parquet.read_bytes() + b"\0")
    with pytest.raises(data.ManifestError, match=r"manifest records"):
        rumteb.get_task("TERRa", data_dir=tmp_path).load_data()
    parquet.unlink()
    with pytest.raises(data.ManifestError, match=r"listed in .* but missing"):
        rumteb.get_task("TERRa", data_dir=tmp_path).load_data()


# --- pull and verify ------------------------------------------------------------------------------------------------


def test_pull_writes_manifests_and_the_mirror_loads(hub: FakeHub, tmp_path: Path) -> None:
    out = tmp_path / "mirror"
    manifests = data.pull(rumteb.get_tasks(["TERRa"]), out, download=hub)
    assert [m.repo_id for m in manifests] == ["mteb/TERRa"]
    assert hub.calls == [("mteb/TERRa", TERRA_REV, None)]
    manifest = json.loads((out / "mteb" / "TERRa" / data.MANIFEST).read_text())
    assert manifest["revision"] == TERRA_REV and manifest["tasks"] == ["TERRa"]
    assert set(manifest["files"]) == {"README.md", "default/dev-00000-of-00001.parquet"}
    assert all(len(f["sha256"]) == 64 for f in manifest["files"].values())
    task = rumteb.get_task("TERRa", data_dir=out)
    task.load_data()
    assert len(task.dataset["dev"]) == 12
    assert data.verify(out).ok


def test_pull_downloads_a_shared_dataset_once(hub: FakeHub, tmp_path: Path) -> None:
    tasks = rumteb.get_tasks(["RuSciBenchGRNTIClassification", "RuSciBenchGRNTIClusteringP2P"])
    (manifest,) = data.pull(tasks, tmp_path / "m", download=hub)
    assert len(hub.calls) == 1
    assert manifest.tasks == ("RuSciBenchGRNTIClassification", "RuSciBenchGRNTIClusteringP2P")


def test_pull_fetches_only_the_russian_configs_of_per_language_repos(hub: FakeHub, tmp_path: Path) -> None:
    (manifest,) = data.pull(rumteb.get_tasks(["MIRACLRetrieval"]), tmp_path / "m", download=hub)
    assert hub.calls[0][2] == ["README.md"]
    assert set(manifest.files) == {
        "README.md",
        "ru-corpus/dev-00000-of-00001.parquet",
        "ru-queries/dev-00000-of-00001.parquet",
    }


def test_pull_replaces_an_older_revision_whole(hub: FakeHub, tmp_path: Path) -> None:
    out = tmp_path / "m"
    stale = make_mirror(out, "mteb/TERRa", {"old": TERRA_ROWS}, revision="1" * 40)
    assert (stale / "old").is_dir()
    data.pull(rumteb.get_tasks(["TERRa"]), out, download=hub)
    assert not (stale / "old").exists()
    assert data.read_manifest(stale / data.MANIFEST).revision == TERRA_REV
    assert not any(p.name.startswith(".TERRa") for p in (out / "mteb").iterdir())


def test_verify_names_changed_missing_and_unexpected_files(hub: FakeHub, tmp_path: Path) -> None:
    out = tmp_path / "m"
    data.pull(rumteb.get_tasks(["TERRa", "RuSciBenchGRNTIClassification"]), out, download=hub)
    readme = out / "mteb" / "TERRa" / "README.md"
    content = bytearray(readme.read_bytes())
    content[-2] ^= 1  # one byte, same size
    readme.write_bytes(bytes(content))
    sci = out / "ai-forever" / "ru-scibench-grnti-classification"
    next(sci.rglob("*.parquet")).unlink()
    (sci / "extra.parquet").write_bytes(b"x")
    report = data.verify(out)
    assert not report.ok
    text = "\n".join(report.problems)
    assert f"changed: {readme}" in text
    assert "missing: " in text and "default/test-00000-of-00001.parquet" in text
    assert f"unexpected (not in the manifest): {sci / 'extra.parquet'}" in text
    assert len(report.problems) == 3


def test_verify_reports_folders_without_manifest_and_symlinks(tmp_path: Path) -> None:
    make_mirror(tmp_path, "org/handmade", {"default": {"test": [{"a": 1}]}})
    folder = make_mirror(tmp_path, "org/linked", {"default": {"test": [{"a": 1}]}}, revision="2" * 40)
    target = next(folder.rglob("*.parquet"))
    outside = tmp_path / "outside.parquet"
    shutil.move(target, outside)
    target.symlink_to(outside)
    report = data.verify(tmp_path)
    assert report.unverified == ["org/handmade"]
    assert any("symbolic link" in p and str(target) in p for p in report.problems)


def test_cli_pull_and_verify(hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr("rumteb.data.pulling._hub_download", hub)
    out = tmp_path / "m"
    assert main(["data", "pull", "--tasks", "TERRa", "--to", str(out)]) == 0
    assert "mteb/TERRa@48312c334e" in capsys.readouterr().out
    assert main(["data", "verify", str(out)]) == 0
    assert "OK: 1 datasets checked, 0 problems" in capsys.readouterr().out
    parquet = next((out / "mteb" / "TERRa").rglob("*.parquet"))
    raw = bytearray(parquet.read_bytes())
    raw[100] ^= 0xFF
    parquet.write_bytes(bytes(raw))
    assert main(["data", "verify", str(out)]) == 1
    output = capsys.readouterr().out
    assert f"changed: {parquet}" in output and "FAILED" in output


def test_cli_errors_are_messages_not_tracebacks(tmp_path: Path, capsys) -> None:
    assert main(["data", "pull", "--tasks", "TERRA", "--to", str(tmp_path)]) == 1
    assert "Did you mean: TERRa?" in capsys.readouterr().err
    assert main(["data", "verify", str(tmp_path / "nope")]) == 1
    assert "does not exist" in capsys.readouterr().err


# --- path safety and fuzzing ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "repo_id", ["../etc", "org/..", "/abs/path", "org/../../x", "org", "a/b/c", "org/.", ""]
)
def test_dataset_ids_cannot_escape_the_data_folder(tmp_path: Path, repo_id: str) -> None:
    with pytest.raises(ValueError, match="'repo_id' parameter of dataset_folder"):
        data.dataset_folder(tmp_path, repo_id)


def test_symlinked_dataset_folder_outside_the_mirror_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "mirror" / "mteb").mkdir(parents=True)
    (tmp_path / "mirror" / "mteb" / "TERRa").symlink_to(elsewhere)
    with pytest.raises(data.DataError, match="resolves outside the data folder"):
        data.dataset_folder(tmp_path / "mirror", "mteb/TERRa")


@pytest.mark.parametrize("rel", ["../x", "/etc/passwd", "a/../../b", "a//b", "C:/x", "a\\b", "./a"])
def test_manifest_paths_must_stay_inside(tmp_path: Path, rel: str) -> None:
    path = tmp_path / data.MANIFEST
    payload = {
        "format": 1,
        "repo_id": "a/b",
        "revision": "r",
        "files": {rel: {"size": 1, "sha256": "0" * 64}},
    }
    path.write_text(json.dumps(payload))
    with pytest.raises(data.ManifestError, match="malformed"):
        data.read_manifest(path)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_fields = st.fixed_dictionaries(
    {},
    optional={
        "format": st.sampled_from([1, 2, "1", None]) | _json,
        "repo_id": st.text(max_size=20) | _json,
        "revision": st.text(max_size=40) | _json,
        "files": st.dictionaries(
            st.text(max_size=12),
            st.fixed_dictionaries(
                {}, optional={"size": st.integers() | _json, "sha256": st.text(max_size=64) | _json}
            ),
            max_size=3,
        )
        | _json,
        "tasks": _json,
        "allow_patterns": _json,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=_fields, cut=st.integers(min_value=0, max_value=400), raw=st.binary(max_size=64))
def test_fuzzed_manifests_raise_only_manifest_errors(
    tmp_path: Path, payload: dict, cut: int, raw: bytes
) -> None:
    path = tmp_path / "m.json"
    text = json.dumps(payload, ensure_ascii=False)
    for content in (text.encode(), text.encode()[:cut], raw):
        path.write_bytes(content)
        try:
            manifest = data.read_manifest(path)
        except data.ManifestError:
            continue
        assert isinstance(manifest.revision, str)
        assert all(isinstance(e.size, int) and e.size >= 0 for e in manifest.files.values())


def test_a_mirror_changed_in_place_is_never_served_from_a_stale_cache(tmp_path: Path) -> None:
    """datasets keys a local folder's cache by name and card; rumteb keys it by the files too."""
    mirror_for_task(tmp_path, "TERRa", {"default": TERRA_ROWS})
    first = rumteb.get_task("TERRa", data_dir=tmp_path)
    first.load_data()
    assert len(first.dataset["dev"]) == 12
    fewer = {"dev": TERRA_ROWS["dev"][:5]}
    mirror_for_task(tmp_path, "TERRa", {"default": fewer})  # same file names, same README, new contents
    second = rumteb.get_task("TERRa", data_dir=tmp_path)
    second.load_data()
    assert len(second.dataset["dev"]) == 5
