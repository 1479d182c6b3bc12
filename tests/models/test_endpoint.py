"""Served models: `EndpointEncoder` and ``rumteb run --endpoint`` against a real Infinity server on localhost.

The server (``infinity-emb[server,torch]``) pins older sentence-transformers and transformers than rumteb, so it
lives in its own virtual environment under the temp folder, built once (about a minute; reused afterwards) and
started once per session on a free port, serving the local all-MiniLM-L6-v2 folder on CPU with the Hub offline.

The reference scores are all-MiniLM-L6-v2's local fp32 scores on the exact slices (measured in
`tests/evaluation/test_real_data.py`, where rumteb's tasks equal mteb's built-ins to the last bit); a live parity check on
real texts compares the server's embeddings with rumteb's local fp32 `Encoder` row by row.

Runtime: building the server's environment ~1-2 min (once); starting a server ~20 s (three are started: the
session's, and two for the kill-and-restart test); one pass of the three slices through it (410k tokens) ~45 s on
2 idle cores and about 3 minutes on busy ones; the kill-and-restart test ~1 min; the rest ~45 s.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import _helpers
import mteb
import numpy as np
import pytest
from real_mirror import build as build_real_mirror

import rumteb
from rumteb.cli import main
from rumteb.models.endpoint import EndpointEncoder, EndpointError

pytestmark = pytest.mark.endpoint

VENV = Path(tempfile.gettempdir()) / "rumteb-infinity-venv"
READY = ".rumteb-ready"
SERVED = "minilm"
#: all-MiniLM-L6-v2, local fp32 (tests/evaluation/test_real_data.py's table)
LOCAL_FP32 = {"TERRa": 0.450325093, "RUParaPhraserSTS": 0.439328918, "CEDRClassification": 0.324760893}


def _build_venv() -> Path:
    """The server's virtual environment, built once into a scratch folder and renamed into place when complete."""
    if (VENV / READY).is_file():
        return VENV
    scratch = VENV.with_name(f"{VENV.name}.partial-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(scratch)], check=True)
    pip = [str(scratch / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "torch==2.13.0"], check=True)
    subprocess.run([*pip, "infinity-emb[server,torch]==0.0.78"], check=True)  # pinned: the server under test
    (scratch / READY).touch()
    shutil.rmtree(VENV, ignore_errors=True)
    scratch.rename(VENV)
    return VENV


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _infinity(log: Path, url_prefix: str = "/v1") -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``(http://127.0.0.1:PORT, process)`` of an Infinity server serving MiniLM as ``minilm``, its routes under
    ``url_prefix`` (``""``: Infinity's default, ``/embeddings`` without ``/v1``); stopped on exit."""
    import httpx

    venv = _build_venv()
    port = _free_port()
    # the interpreter runs the script: the venv works wherever it was built (its scripts' shebangs do not)
    command = [str(venv / "bin" / "python"), str(venv / "bin" / "infinity_emb"), "v2"]
    command += [
        "--model-id",
        str(_helpers.minilm_path()),
        "--served-model-name",
        SERVED,
        *(["--url-prefix", url_prefix] if url_prefix else []),
    ]
    command += ["--port", str(port), "--host", "127.0.0.1", "--engine", "torch", "--device", "cpu"]
    command += ["--no-bettertransformer"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "INFINITY_ANONYMOUS_USAGE_STATS": "0"}
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"The Infinity server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"The Infinity server did not start in 180 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's Infinity server (``http://127.0.0.1:PORT``)."""
    with _infinity(tmp_path_factory.mktemp("infinity") / "server.log") as (url, _process):
        yield url


@pytest.fixture(scope="module")
def real_mirror(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("real-mirror")
    return root, build_real_mirror(root, shared_data)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("endpoint-cache")


def _evaluate(encoder: EndpointEncoder, mirror: Path, names: list[str]) -> dict[str, float]:
    tasks = rumteb.get_tasks(names, data_dir=mirror)
    results = mteb.evaluate(encoder, tasks, cache=None, show_progress_bar=False)
    return {r.task_name: float(r.get_score()) for r in results.task_results}


@pytest.fixture(scope="module")
def served_scores(server: str, real_mirror: tuple[Path, list[str]], cache: Path) -> dict[str, float]:
    mirror, names = real_mirror
    with (
        _helpers.one_thread(),
        EndpointEncoder(server, SERVED, max_concurrency=4, cache_dir=cache) as encoder,
    ):
        scores = _evaluate(encoder, mirror, names)
        assert encoder.stats["encoded"] > 0 and encoder.stats["retries"] == 0
    return scores


@pytest.mark.slow
def test_scores_equal_the_local_fp32_run(served_scores: dict[str, float]) -> None:
    assert set(served_scores) == set(LOCAL_FP32)
    for name, expected in LOCAL_FP32.items():
        assert served_scores[name] == pytest.approx(expected, abs=1e-4), name


def test_embeddings_equal_the_local_fp32_encoder_in_input_order(server: str, shared_data: Path) -> None:
    from rumteb.models import Encoder

    rows = _helpers.read_jsonl(shared_data / "rumteb" / "TERRa" / "dev.jsonl")[:60]
    texts = [r["sentence1"] for r in rows] + [r["sentence2"] for r in rows]
    texts += texts[:10]  # duplicates: sent once
    # a small budget: many requests, several in flight, answered out of order
    with EndpointEncoder(server, SERVED, max_concurrency=8, max_tokens_per_request=700) as encoder:
        served = encoder.encode_texts(texts)
        assert encoder.stats["encoded"] == len(set(texts))
        assert encoder.stats["requests"] > 8
    local = Encoder(_helpers.minilm_path(), precision="fp32", device="cpu").encode_texts(texts)
    assert served.dtype == np.float32 and served.shape == local.shape
    np.testing.assert_allclose(served, local, atol=1e-5)


@pytest.mark.slow
def test_cached_rerun_sends_no_request(
    served_scores: dict[str, float], server: str, real_mirror: tuple[Path, list[str]], cache: Path
) -> None:
    mirror, names = real_mirror
    # another URL for the same server: the cache is keyed by the served name, not by the URL
    with _helpers.one_thread(), EndpointEncoder(server + "/v1/", SERVED, cache_dir=cache) as encoder:
        scores = _evaluate(encoder, mirror, names)
        assert encoder.stats["requests"] == 0 and encoder.stats["encoded"] == 0
        assert encoder.stats["disk_hits"] > 0
    assert scores == served_scores


def test_metadata_names_the_served_model_and_host(server: str) -> None:
    with EndpointEncoder(server, SERVED, model_revision="v1") as encoder:
        meta = encoder.mteb_model_meta
    assert (meta.name, meta.revision, meta.reference, meta.embed_dim) == ("served/minilm", "v1", server, 384)
    assert meta.loader_kwargs == {"endpoint": server, "served_model_name": SERVED}
    with meta.load_model() as loaded:  # the metadata written with the results reconnects to the server
        assert isinstance(loaded, EndpointEncoder) and (loaded.model, loaded.model_revision) == (SERVED, "v1")
    with EndpointEncoder(server.replace("://", "://user:secret@"), SERVED) as encoder:
        assert "secret" not in repr(encoder) and "secret" not in str(encoder.mteb_model_meta.reference)


def test_wrong_model_name_is_a_clear_error(server: str) -> None:
    with pytest.raises(
        EndpointError,
        match=r"serves 'minilm' \(GET /v1/models\), not 'no-such-model': a wrong served name\. Pass",
    ):
        EndpointEncoder(server, "no-such-model")


def test_unreachable_server_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(
        EndpointError, match=rf"Cannot reach the embedding server at {url}/v1/embeddings .*Start the"
    ):
        EndpointEncoder(url, SERVED)
    encoder = EndpointEncoder(url, SERVED, check=False, retries=0)
    with pytest.raises(EndpointError, match="Cannot reach the embedding server"):
        encoder.encode_texts(["Привет"])


def test_api_key_env_must_be_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUMTEB_TEST_KEY", raising=False)
    with pytest.raises(ValueError, match=r"'RUMTEB_TEST_KEY'.*not set"):
        EndpointEncoder("http://127.0.0.1:1", SERVED, api_key_env="RUMTEB_TEST_KEY", check=False)


def test_cli_run_with_endpoint_writes_results(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mirror = tmp_path / "mirror"
    _helpers.mirror_for_task(mirror, "TERRa", {"default": _helpers.TERRA_ROWS})
    out = tmp_path / "out"
    argv = ["run", "--endpoint", server, "-m", SERVED, "-t", "TERRa", "--data-dir", str(mirror)]
    assert main([*argv, "--output-folder", str(out), "--max-concurrency", "2"]) == 0
    folder = out / "results" / "served__minilm" / "no_revision_available"
    assert (folder / "TERRa.json").is_file() and (folder / "model_meta.json").is_file()
    import json

    written = json.loads((folder / "model_meta.json").read_text())
    assert (written["loader"], written["embed_dim"]) == ("served_model", 384)
    assert written["loader_kwargs"] == {"endpoint": server, "served_model_name": SERVED}
    settings = json.loads((folder / "run_settings.jsonl").read_text().splitlines()[-1])
    assert settings["rumteb"]["model"]["served"]["endpoint"] == server
    assert "the server at" in capsys.readouterr().err
    # the local encoders' settings are refused with --endpoint, the endpoint's without it
    assert main([*argv, "--output-folder", str(out), "--precision", "bf16"]) == 1
    assert "--precision is a setting of the local encoders" in capsys.readouterr().err
    assert main(["run", "-m", SERVED, "-t", "TERRa", "--max-concurrency", "2"]) == 1
    assert "--max-concurrency applies to a served model only" in capsys.readouterr().err


def test_infinity_without_url_prefix_gives_the_same_scores(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Infinity started without ``--url-prefix /v1`` (its default) serves ``/models`` and ``/embeddings``: the
    routes are found there, and the run scores what it scores through the session's server with the prefix."""
    mirror = tmp_path / "mirror"
    _helpers.mirror_for_task(mirror, "TERRa", {"default": _helpers.TERRA_ROWS})
    scores = {}
    with _infinity(tmp_path / "server.log", url_prefix="") as (bare, _process):
        with (
            caplog.at_level("INFO", logger="rumteb.models.endpoint"),
            EndpointEncoder(bare, SERVED) as encoder,
        ):
            assert encoder.embed_dim == 384
        assert f"GET /models answered; sending embeddings to {bare}/embeddings" in caplog.text
        for name, url in (("bare", bare), ("prefixed", server)):
            out = tmp_path / name
            argv = ["run", "--endpoint", url, "-m", SERVED, "-t", "TERRa", "--data-dir", str(mirror)]
            assert main([*argv, "--output-folder", str(out)]) == 0, capsys.readouterr().err
            (path,) = (out / "results").rglob("TERRa.json")
            scores[name] = json.loads(path.read_text())["scores"]["dev"][0]["main_score"]
    assert "Traceback" not in capsys.readouterr().err
    assert scores["bare"] == pytest.approx(scores["prefixed"], abs=1e-6)


# ------------------------------------------------------------------------------------------------------------
# Misbehaving servers: a scripted OpenAI-style server in a thread (no Infinity needed).
# ------------------------------------------------------------------------------------------------------------

Reply = tuple[int, dict[str, str], object] | None


@pytest.fixture
def scripted() -> Iterator[tuple[str, list[Reply]]]:
    """``(url, replies)``: each POST takes the next reply; None or an empty list answers with one 3-d vector per
    input, ``[len(text), 1, 0]``. (The encoders' dimension probe at construction is one POST.)"""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    replies: list[Reply] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, headers: dict[str, str], body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            for key, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._send(404, {}, {"detail": "Not Found"})

        def do_POST(self) -> None:
            texts = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["input"]
            reply = replies.pop(0) if replies else None
            if reply is not None:
                self._send(*reply)
            else:
                data = [{"index": i, "embedding": [float(len(t)), 1.0, 0.0]} for i, t in enumerate(texts)]
                self._send(200, {}, {"data": data})

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", replies
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_retries_on_503_then_succeeds(scripted: tuple[str, list[Reply]]) -> None:
    url, replies = scripted
    with EndpointEncoder(url, "m", retries=2) as encoder:
        assert encoder.embed_dim == 3 and encoder.stats["requests"] == 1  # the dimension probe
        replies += [
            (503, {"Retry-After": "0"}, {"error": "loading"}),
            (429, {"Retry-After": "0"}, {"error": "busy"}),
        ]
        vectors = encoder.encode_texts(["ab", "abc"])
        assert encoder.stats["retries"] == 2 and encoder.stats["requests"] == 4
    np.testing.assert_array_equal(vectors[:, 0], [2.0, 3.0])


def test_refusals_and_bad_answers_are_clear_errors(scripted: tuple[str, list[Reply]]) -> None:
    url, replies = scripted
    encoder = EndpointEncoder(url, "m", retries=0)
    replies.append((400, {}, {"error": {"message": "input too long"}}))
    with pytest.raises(EndpointError, match=rf"{url}/v1/embeddings answered HTTP 400 .*input too long"):
        encoder.encode_texts(["a"])
    replies.append((503, {"Retry-After": "0"}, {"error": "down"}))
    with pytest.raises(EndpointError, match=r"HTTP 503.*after 0 retries"):
        encoder.encode_texts(["a"])
    replies.append((200, {}, {"data": [{"index": 0, "embedding": [1.0, 2.0, 3.0]}]}))
    with pytest.raises(EndpointError, match="returned 1 embeddings for 2 inputs"):
        encoder.encode_texts(["a", "b"])
    encoder.encode_texts(["a"])  # 3-d
    replies.append((200, {}, {"data": [{"index": 0, "embedding": [1.0, 2.0, 3.0, 4.0]}]}))
    with pytest.raises(EndpointError, match=r"returned 4-dimensional embeddings .* earlier 3"):
        encoder.encode_texts(["b"])


def test_requests_are_cut_by_the_budget_and_order_is_restored(scripted: tuple[str, list[Reply]]) -> None:
    from rumteb.models.endpoint._client import plan_requests

    assert plan_requests(["aaaa", "bb", "cc", "dddddddddd", "e"], 6, 32) == [
        range(2),
        range(2, 3),
        range(3, 4),
        range(4, 5),
    ]
    assert plan_requests(["a"] * 5, 100, 2) == [range(2), range(2, 4), range(4, 5)]
    url, _ = scripted
    texts = [("x" * (i % 7 + 1)) for i in range(50)]
    with EndpointEncoder(url, "m", max_tokens_per_request=10, max_concurrency=8) as encoder:
        vectors = encoder.encode_texts(texts, prompt="q:")
        assert encoder.stats["encoded"] == 7  # distinct texts only
    np.testing.assert_array_equal(vectors[:, 0], [len(t) + 2 for t in texts])


def test_a_failed_call_keeps_what_came_back(scripted: tuple[str, list[Reply]], tmp_path: Path) -> None:
    url, replies = scripted
    texts = [f"text {'x' * i}" for i in range(10)]
    sizes = {"max_texts_per_request": 2, "max_concurrency": 1, "retries": 0, "cache_dir": tmp_path}
    with EndpointEncoder(url, "m", **sizes) as encoder:
        replies += [None, None, (400, {}, {"error": "boom"})]  # two requests answered, the third refused
        with pytest.raises(EndpointError, match="HTTP 400"):
            encoder.encode_texts(texts)
        assert encoder.stats["encoded"] == 4
    with EndpointEncoder(url, "m", **sizes) as encoder:  # the next run: only the rest is sent
        vectors = encoder.encode_texts(texts)
        assert (encoder.stats["disk_hits"], encoder.stats["encoded"]) == (4, 6)
        assert encoder.stats["requests"] == 3  # no probe: the cache knows the dimension
    np.testing.assert_array_equal(vectors[:, 0], [len(t) for t in texts])


def test_a_failed_call_with_requests_in_flight_keeps_the_answers(scripted: tuple[str, list[Reply]]) -> None:
    url, replies = scripted
    with EndpointEncoder(url, "m", max_texts_per_request=1, max_concurrency=4, retries=0) as encoder:
        replies += [None] * 5 + [(400, {}, {"error": "boom"})]
        with pytest.raises(EndpointError, match="HTTP 400"):
            encoder.encode_texts([f"t{i}" for i in range(40)])
        kept = encoder.stats["encoded"]
        assert 5 <= kept < 40  # the answers that came back, not the requests after the failure
        assert encoder.stats["requests"] - 1 < 40  # requests not started were dropped
        encoder.encode_texts([f"t{i}" for i in range(40)])
        assert (
            encoder.stats["memory_hits"] == kept and encoder.stats["encoded"] == 40
        )  # a retry sends the rest


def test_endpoint_options_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["run", "--endpoint", "http://127.0.0.1:1", "-m", SERVED, "-t", "TERRa"]
    for option in ("--max-concurrency", "--max-tokens-per-request"):
        assert main([*base, option, "0"]) == 1
        assert f"The '{option}' option must be a positive int. Got 0 instead." in capsys.readouterr().err
    with pytest.raises(ValueError, match="'max_memory' parameter of EndpointEncoder"):
        EndpointEncoder("http://127.0.0.1:1", SERVED, max_memory="lots", check=False)
    with pytest.raises(ValueError, match="'url' parameter of EndpointEncoder must be an http"):
        EndpointEncoder("ftp://127.0.0.1:1", SERVED, check=False)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "candidates"), [("RuBQRetrieval", None), ("RuBQReranking", 12)])
def test_retrieval_streams_the_corpus_and_equals_mteb_search(
    server: str,
    tmp_path: Path,
    shared_data: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    candidates: int | None,
) -> None:
    """Real Russian questions and paragraphs (XQuAD ru) through the server, the corpus in chunks of 7 documents."""
    from _helpers.models import PlainEncoder, xquad_configs

    root = tmp_path / "data"
    _helpers.mirror_for_task(root, name, xquad_configs(shared_data, 40, candidates))
    from rumteb.models.search import StreamingSearch

    seen: list[int] = []
    original = StreamingSearch._encode_rows

    def spy(self: StreamingSearch, rows: object, kind: str, *args: object) -> np.ndarray:
        if kind == "document":
            seen.append(len(rows))  # type: ignore[arg-type]
        return original(self, rows, kind, *args)

    monkeypatch.setattr(StreamingSearch, "corpus_chunk_rows", lambda self, device=None: 7)
    monkeypatch.setattr(StreamingSearch, "_encode_rows", spy)
    task = rumteb.get_task(name, data_dir=root)
    with _helpers.one_thread(), EndpointEncoder(server, SERVED, prompts={"query": "вопрос: "}) as encoder:
        ours = mteb.evaluate(encoder, [task], cache=None, show_progress_bar=False)
        assert max(seen) == 7 and sum(seen) == 120  # the whole corpus, in chunks
        # mteb's own search over the same embeddings (already in the encoder's memory)
        theirs = mteb.evaluate(PlainEncoder(encoder), [task], cache=None, show_progress_bar=False)
    a, b = ours.task_results[0].scores["test"][0], theirs.task_results[0].scores["test"][0]
    for metric in ("ndcg_at_10", "map_at_1000", "recall_at_100", "mrr_at_10", "precision_at_1"):
        assert abs(a[metric] - b[metric]) <= 1e-9, metric


def _task_scores(folder: Path) -> dict[str, float]:
    import json

    scores = {}
    for path in folder.glob("*.json"):
        if path.name != "model_meta.json":
            result = json.loads(path.read_text())
            split = next(iter(result["scores"].values()))
            scores[result["task_name"]] = float(np.mean([s["main_score"] for s in split]))
    return scores


@pytest.mark.slow
def test_server_killed_mid_run_then_restarted_resumes_from_the_cache(
    served_scores: dict[str, float],
    real_mirror: tuple[Path, list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import threading

    mirror, _names = real_mirror
    names = ["TERRa", "RUParaPhraserSTS"]  # the two small slices: killed in the first, resumed, both finished
    cache, out = tmp_path / "cache", tmp_path / "out"
    common = ["-m", SERVED, "-t", *names, "--data-dir", str(mirror), "--cache-dir", str(cache)]
    common += ["--output-folder", str(out), "--max-concurrency", "4"]
    with _infinity(tmp_path / "first.log") as (url, process):

        def kill_after_the_first_embeddings() -> None:
            while process.poll() is None and not list(cache.glob("*/seg-*.rec")):
                time.sleep(0.02)
            process.kill()

        killer = threading.Thread(target=kill_after_the_first_embeddings, daemon=True)
        killer.start()
        with _helpers.one_thread():
            status = main(["run", "--endpoint", url, *common])
        killer.join()
    err = capsys.readouterr().err
    assert status == 1
    assert f"Cannot reach the embedding server at {url}/v1/embeddings" in err
    assert "run the same command again to resume" in err
    # a new server (another port: the cache is keyed by the model name, not the URL) finishes the run
    with _infinity(tmp_path / "second.log") as (url, _process), _helpers.one_thread():
        assert main(["run", "--endpoint", url, *common]) == 0
    err = capsys.readouterr().err
    reused = int(
        err.split(" texts; reused ")[1].split(" from this run and ")[1].split(" from --cache-dir")[0]
    )
    encoded = int(err.split("Encoded ")[1].split(" texts")[0])
    assert (
        reused > 0 and encoded > 0
    )  # resumed part-way: some texts came from the first run, the rest were sent
    scores = _task_scores(out / "results" / "served__minilm" / "no_revision_available")
    assert set(scores) == set(names)
    for (
        task
    ) in names:  # the same scores as the uninterrupted run (two server processes: equal to float noise)
        assert scores[task] == pytest.approx(served_scores[task], abs=1e-6), task
