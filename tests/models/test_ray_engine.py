"""The Ray engine on a real local Ray cluster (``ray start --head``, two CPU actors): the same embeddings and
scores as one process, a killed actor restarted by Ray, and ``rumteb run --engine ray`` joining via RAY_ADDRESS."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import mteb
import numpy as np
import pytest
from _helpers import TERRA_ROWS, mirror_for_task, russian_sentences
from _helpers.models import xquad_configs

import rumteb
from rumteb.cli import main
from rumteb.models import Encoder

pytestmark = pytest.mark.ray


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


def _actor_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "MapWorker" in command and "_BatchEncoder" in command:
            pids.append(int(entry.name))
    return pids


def test_a_killed_actor_is_restarted_and_the_output_is_unchanged(
    ray_cluster: str, tiny_model_path: Path, texts: list[str]
) -> None:
    many = [f"{text} ({n})" for n in range(3) for text in texts]  # 1,800 distinct texts
    expected = Encoder(tiny_model_path, device="cpu", precision="fp32").encode_texts(many)
    # small batches: a job of ~1,000 batches, long enough to kill an actor in the middle of it
    on_ray = Encoder(
        tiny_model_path,
        device=["cpu", "cpu"],
        precision="fp32",
        engine="ray",
        ray_address=ray_cluster,
        max_tokens_per_batch=48,
    )
    killed: list[int] = []
    done = threading.Event()

    def kill_one() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not done.is_set():
            pids = _actor_pids()
            if pids:
                time.sleep(0.5)  # let it load the model and take batches
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one, daemon=True)
    killer.start()
    out = on_ray.encode_texts(many)
    done.set()
    killer.join(timeout=5)
    assert killed, "no encoder actor was seen to kill"
    assert np.array_equal(out, expected)


def test_run_command_joins_the_cluster_of_ray_address(
    ray_cluster: str, tiny_model_path: Path, tmp_path: Path
) -> None:
    """``rumteb run --engine ray`` in a fresh process joins the cluster named by RAY_ADDRESS: same score."""
    mirror = tmp_path / "mirror"
    mirror_for_task(mirror, "TERRa", {"default": TERRA_ROWS})
    common = [
        "run",
        "-m",
        str(tiny_model_path),
        "-t",
        "TERRa",
        "--data-dir",
        str(mirror),
        "--precision",
        "fp32",
    ]
    assert main([*common, "--device", "cpu", "--output-folder", str(tmp_path / "local")]) == 0
    env = {**os.environ, "RAY_ADDRESS": ray_cluster}
    command = [sys.executable, "-m", "rumteb", *common, "--device", "cpu,cpu", "--engine", "ray"]
    command += ["--output-folder", str(tmp_path / "ray")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "through Ray" in done.stderr

    def max_ap(run: str) -> float:
        (path,) = (tmp_path / run / "results").rglob("TERRa.json")
        return float(json.loads(path.read_text())["scores"]["dev"][0]["max_ap"])

    assert max_ap("local") == max_ap("ray")


def test_ray_address_needs_the_ray_engine(tiny_model_path: Path) -> None:
    with pytest.raises(
        ValueError, match="'ray_address' parameter of Encoder must be left out unless the engine is 'ray'"
    ):
        Encoder(tiny_model_path, ray_address="auto")
    with pytest.raises(
        ValueError, match=r"'engine' parameter of Encoder must be one of local, ray\. Got 'dask'"
    ):
        Encoder(tiny_model_path, engine="dask")
