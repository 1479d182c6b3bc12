"""Fault injection, crash safety of ``rumteb run``: SIGKILL after a result and mid-encoding, SIGINT, two runs at
once into one folder, a write that dies half way. Every re-run finishes only the missing work and ends with the
scores of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mteb
import pytest
from _helpers import STSB_ROWS, TERRA_ROWS, mirror_for_task

TASKS = ("TERRa", "RuSTSBenchmarkSTS")

# Runs rumteb's command line with one hook that announces a moment on stdout and then waits to be killed, so the
# kill lands at a known point (not on a timer). Hooks: "after-first-result" (TERRa's file is written),
# "mid-encoding" (the second encode call, after the first one's embeddings reached --cache-dir).
DRIVER = """
import os, sys, time
hook = os.environ.get("RUMTEB_TEST_HOOK", "")
if hook == "after-first-result":
    from rumteb.evaluation import result_store as _result_store
    save = _result_store.SafeResultCache.save_to_cache
    def hooked(self, result, *args, **kwargs):
        save(self, result, *args, **kwargs)
        print("HOOK", result.task_name, flush=True)
        time.sleep(600)
    _result_store.SafeResultCache.save_to_cache = hooked
elif hook == "mid-encoding":
    from rumteb.models import encoder
    encode = encoder.Encoder.encode_texts
    calls = []
    def hooked(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            print("HOOK encoding", flush=True)
            time.sleep(600)
        return encode(self, *args, **kwargs)
    encoder.Encoder.encode_texts = hooked
from rumteb.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def setup(
    _tiny_model_session: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, dict[str, float]]:
    """The tiny model (read only: runs never write into it), a small mirror, and the scores of an uninterrupted
    run of the same command, once for the module."""
    root = tmp_path_factory.mktemp("crash")
    mirror = root / "mirror"
    mirror_for_task(mirror, "TERRa", {"default": TERRA_ROWS})
    mirror_for_task(mirror, "RuSTSBenchmarkSTS", {"default": STSB_ROWS})
    out = root / "reference"
    _run(root, _argv(_tiny_model_session, mirror, out))
    scores = _scores(out)
    assert set(scores) == set(TASKS)
    return _tiny_model_session, mirror, scores


def _env(tmp_path: Path, hook: str = "") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RUMTEB_TEST_HOOK=hook,
        HF_DATASETS_CACHE=str(tmp_path / f"hf-cache-{hook or 'plain'}-{time.monotonic_ns()}"),
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    return env


def _argv(model: Path, mirror: Path, out: Path, cache: Path | None = None) -> list[str]:
    argv = ["run", "-m", str(model), "-t", *TASKS, "--data-dir", str(mirror), "--output-folder", str(out)]
    argv += ["--device", "cpu", "--encoder", "rumteb", "--precision", "fp32"]
    return [*argv, "--cache-dir", str(cache)] if cache else argv


def _start(tmp_path: Path, argv: list[str], hook: str = "") -> subprocess.Popen[str]:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, str(driver), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path, hook),
    )


def _run(tmp_path: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    proc = _start(tmp_path, argv)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _wait_for_hook(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the hook speaks (or the process ends)
    if not line.startswith("HOOK"):
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"the run ended before its hook: {line!r}\n{err}")
    return line


def _result_files(out: Path) -> dict[str, Path]:
    return {p.stem: p for p in (out / "results").rglob("*.json") if p.name != "model_meta.json"}


def _scores(out: Path) -> dict[str, float]:
    return {name: mteb.TaskResult.from_disk(path).get_score() for name, path in _result_files(out).items()}


def _assert_nothing_partial(out: Path) -> None:
    """Every file a reader may pick up parses; no temporary file is left under a name a reader globs."""
    for path in (out / "results").rglob("*"):
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        if path.name == "run_settings.jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                json.loads(line)


@pytest.mark.slow
def test_sigkill_after_the_first_result_then_rerun_finishes_only_the_rest(
    setup: tuple[Path, Path, dict[str, float]], tmp_path: Path
) -> None:
    model, mirror, reference = setup
    out = tmp_path / "out"
    argv = _argv(model, mirror, out)
    proc = _start(tmp_path, argv, hook="after-first-result")
    assert _wait_for_hook(proc).split()[1] == "TERRa"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    _assert_nothing_partial(out)
    assert set(_result_files(out)) == {"TERRa"}
    terra = _result_files(out)["TERRa"]
    before = (terra.read_bytes(), terra.stat().st_mtime_ns)

    done = _run(tmp_path, argv)
    assert (terra.read_bytes(), terra.stat().st_mtime_ns) == before  # reused, not recomputed
    assert "re-run" not in done.stderr
    assert _scores(out) == reference


@pytest.mark.slow
def test_ctrl_c_and_sigkill_mid_encoding_then_rerun_reuses_the_cache_and_matches(
    setup: tuple[Path, Path, dict[str, float]], tmp_path: Path
) -> None:
    model, mirror, reference = setup
    out, cache = tmp_path / "out", tmp_path / "cache"
    argv = _argv(model, mirror, out, cache)

    # Ctrl-C while encoding: exit status 130, a one-line message, nothing partial
    proc = _start(tmp_path, argv, hook="mid-encoding")
    _wait_for_hook(proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "rumteb: interrupted" in err and "Traceback" not in err
    _assert_nothing_partial(out)

    # SIGKILL while encoding, once the first encode call's embeddings are in --cache-dir
    proc = _start(tmp_path, argv, hook="mid-encoding")
    _wait_for_hook(proc)
    assert any(p.is_file() for p in cache.rglob("*") if p.name != "namespace.json")  # a segment was written
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    _assert_nothing_partial(out)
    assert _result_files(out) == {}

    done = _run(tmp_path, argv)
    assert "from --cache-dir" in done.stderr
    assert "and 0 from --cache-dir" not in done.stderr  # the interrupted runs' embeddings are reused
    assert _scores(out) == reference


@pytest.mark.slow
def test_two_runs_into_one_folder_at_once_do_not_corrupt_each_other(
    setup: tuple[Path, Path, dict[str, float]], tmp_path: Path
) -> None:
    model, mirror, reference = setup
    out = tmp_path / "out"
    # a job array's shards: each run one task, same model, same folder, same model_meta.json and run_settings
    runs = []
    for task in TASKS:
        argv = _argv(model, mirror, out)
        argv[argv.index("-t") + 1 : argv.index("-t") + 3] = [task]
        runs.append(_start(tmp_path, argv))
    for proc in runs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    _assert_nothing_partial(out)
    assert _scores(out) == reference
    (folder,) = {p.parent for p in _result_files(out).values()}
    settings = [json.loads(line) for line in (folder / "run_settings.jsonl").read_text().splitlines()]
    assert {row["task"] for row in settings} == set(TASKS)
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
