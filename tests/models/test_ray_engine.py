"""The Ray engine on a real local Ray cluster (``ray start --head``, two CPU actors): the same embeddings and
scores as one process, actors kept for the run (two for three tasks) and gone after it, a killed actor restarted
once by Ray with unchanged output, and ``rumteb run --engine ray`` joining via RAY_ADDRESS."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import mteb
import numpy as np
import pytest
from _helpers import mirror_for_task, russian_sentences
from _helpers.mini_rumteb import build_mini_rumteb
from _helpers.models import xquad_configs

import rumteb
from rumteb.cli import main
from rumteb.models import Encoder

pytestmark = pytest.mark.ray

_THREE = ("TERRa", "RuSTSBenchmarkSTS", "RuBQRetrieval")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Ray head node on localhost with 2 CPUs, in its own temporary directory; stopped at the end.

    Everything stays on the loopback address: Ray otherwise advertises the machine's outward address, and the
    test cluster is unauthenticated (its own, short-lived).
    """
    for name, value in _LOOPBACK_ENV.items():
        os.environ[name] = value
    import ray

    ray_cli = str(Path(sys.executable).parent / "ray")
    temp_dir = tmp_path_factory.mktemp("ray")
    address = f"127.0.0.1:{_free_port()}"
    start = [ray_cli, "start", "--head", f"--port={address.split(':')[1]}", "--num-cpus=2"]
    start += [f"--temp-dir={temp_dir}", "--include-dashboard=false", "--disable-usage-stats"]
    subprocess.run(start, check=True, capture_output=True, timeout=180)
    try:
        yield address
    finally:
        ray.shutdown()
        subprocess.run([ray_cli, "stop", "--force"], check=False, capture_output=True, timeout=120)
        for name in _LOOPBACK_ENV:
            os.environ.pop(name, None)


@pytest.fixture(scope="session")
def texts(shared_data: Path) -> list[str]:
    return russian_sentences(shared_data, limit=600)


def test_ray_engine_equals_one_process(
    ray_cluster: str, tiny_model_path: Path, texts: list[str], tmp_path: Path, shared_data: Path
) -> None:
    single = Encoder(tiny_model_path, device="cpu", precision="fp32")
    on_ray = Encoder(
        tiny_model_path, device=["cpu", "cpu"], precision="fp32", engine="ray", ray_address=ray_cluster
    )
    assert on_ray._backend.actors == 2 and on_ray._backend.kind == "cpu"
    assert np.array_equal(
        on_ray.encode_texts(texts, prompt="запрос: "), single.encode_texts(texts, prompt="запрос: ")
    )

    # a retrieval task end to end: equal scores
    root = tmp_path / "data"
    mirror_for_task(root, "RuBQRetrieval", xquad_configs(shared_data, 40, None))
    scores = [
        mteb.evaluate(
            encoder, [rumteb.get_task("RuBQRetrieval", data_dir=root)], cache=None, show_progress_bar=False
        )
        .task_results[0]
        .scores["test"][0]
        for encoder in (single, on_ray)
    ]
    assert scores[0] == scores[1]
    # corpus chunks are bounded as with the local engine (the actors are kept: a chunk costs no actor start)
    assert on_ray.corpus_chunk_rows("cpu") == single.corpus_chunk_rows("cpu")
    on_ray.close()  # its actors hold the test cluster's two CPUs


def _encoder_actors() -> dict[str, dict]:
    """Every encoder actor the cluster has known, dead ones included, by actor id.

    Read from the GCS actor table: ``ray.util.state.list_actors`` asks the dashboard's state server, which needs
    ``ray[default]`` (not installed here); the table behind it is the same.
    """
    import ray

    return {
        actor_id: entry
        for actor_id, entry in ray._private.state.actors().items()
        if entry["ActorClassName"].endswith("RumtebEncoder")
    }


def _new_actors(before: dict[str, dict]) -> list[dict]:
    return [entry for actor_id, entry in _encoder_actors().items() if actor_id not in before]


def test_a_killed_actor_is_restarted_once_and_the_output_is_unchanged(
    ray_cluster: str, tiny_model_path: Path, texts: list[str]
) -> None:
    many = [f"{text} ({n})" for n in range(3) for text in texts]  # 1,800 distinct texts
    expected = Encoder(tiny_model_path, device="cpu", precision="fp32").encode_texts(many)
    # small batches: ~1,000 batches, long enough to kill an actor in the middle of the call
    on_ray = Encoder(
        tiny_model_path,
        device=["cpu", "cpu"],
        precision="fp32",
        engine="ray",
        ray_address=ray_cluster,
        max_tokens_per_batch=48,
    )
    before = _encoder_actors()
    on_ray.encode_texts(texts[:10])  # the actors start here and are kept
    (victim, *_) = _new_actors(before)
    backend = on_ray._backend
    encode_many = backend.encode_many
    done = [0]

    def encode_many_killing_one(batches: list, prompt_length: int | None, progress: Callable) -> list:
        def tick(n: int) -> None:
            done[0] += n
            if done[0] >= 300 and victim["Pid"]:  # mid-call: a third of the texts are back
                os.kill(int(victim["Pid"]), signal.SIGKILL)
                victim["Pid"] = 0
            progress(n)

        return encode_many(batches, prompt_length, tick)

    backend.encode_many = encode_many_killing_one
    out = on_ray.encode_texts(many)
    assert victim["Pid"] == 0, "the actor was not killed"
    assert np.array_equal(out, expected)
    actors = _new_actors(before)
    assert len(actors) == 2 and sorted(a["NumRestarts"] for a in actors) == [0, 1]  # replaced once, in place
    on_ray.close()
    deadline = time.monotonic() + 60
    while any(a["State"] != "DEAD" for a in _new_actors(before)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [a["State"] for a in _new_actors(before)] == ["DEAD", "DEAD"]


def test_run_command_keeps_two_actors_for_three_tasks(
    ray_cluster: str, tiny_model_path: Path, tmp_path: Path
) -> None:
    """``rumteb run --engine ray --device cpu,cpu`` in a fresh process joins the cluster named by RAY_ADDRESS and
    makes exactly two actors for three tasks (each loads the model once: no restarts); they are gone after the
    run, and the scores equal the local engine's."""
    import ray

    if not ray.is_initialized():  # this process reads the actor table
        ray.init(address=ray_cluster, include_dashboard=False, log_to_driver=False)
    mirror = build_mini_rumteb(tmp_path / "mirror", list(_THREE))
    common = [
        "run",
        "-m",
        str(tiny_model_path),
        "-t",
        *_THREE,
        "--data-dir",
        str(mirror),
        "--precision",
        "fp32",
    ]
    assert main([*common, "--device", "cpu", "--output-folder", str(tmp_path / "local")]) == 0
    env = {**os.environ, "RAY_ADDRESS": ray_cluster}
    command = [sys.executable, "-m", "rumteb", *common, "--device", "cpu,cpu", "--engine", "ray"]
    command += ["--output-folder", str(tmp_path / "ray")]
    before = _encoder_actors()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "through Ray" in done.stderr

    actors = _new_actors(before)
    assert len(actors) == 2
    assert [a["NumRestarts"] for a in actors] == [0, 0]  # two model loads in all
    assert [a["State"] for a in actors] == ["DEAD", "DEAD"]

    def scores(run: str) -> dict[str, float]:
        paths = (tmp_path / run / "results").rglob("*.json")
        return {
            p.stem: mteb.TaskResult.from_disk(p).get_score() for p in paths if p.name != "model_meta.json"
        }

    assert scores("local") == scores("ray") and set(scores("ray")) == set(_THREE)


def test_ray_address_needs_the_ray_engine(tiny_model_path: Path) -> None:
    with pytest.raises(
        ValueError, match="'ray_address' parameter of Encoder must be left out unless the engine is 'ray'"
    ):
        Encoder(tiny_model_path, ray_address="auto")
    with pytest.raises(
        ValueError, match=r"'engine' parameter of Encoder must be one of local, ray\. Got 'dask'"
    ):
        Encoder(tiny_model_path, engine="dask")
