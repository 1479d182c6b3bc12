"""A user's mistake is one ``rumteb: error:`` line; a bug in rumteb is its traceback and a line asking to report it.

Every option of ``rumteb run`` that takes a value, given a bad one, and a few of the other commands'; a server that
is down, one whose routes are elsewhere, one that serves another name; CUDA on a CPU build of torch; a Ray address
where nothing listens; a missing or damaged mirror. All run in this process through `rumteb.cli.main`, but the Ray
case (a subprocess: it must not leave Ray initialised here). And every exception class rumteb defines is a
`rumteb.errors.RumtebError`, so that the command line knows it for the user's.
"""

from __future__ import annotations

import errno
import importlib
import inspect
import json
import pkgutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from _helpers import TERRA_ROWS, mirror_for_task

import rumteb
from rumteb.cli import main
from rumteb.errors import RumtebError

Argv = Callable[[Path, Path, Path], list[str]]  # (scratch folder, mirror, model) -> arguments


def _error_line(err: str) -> str:
    """The one ``rumteb: error:`` line of a failed command, with no traceback."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("rumteb: error:")]
    assert len(lines) == 1, err
    return lines[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the socket is: nothing listens there


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mirror")
    mirror_for_task(root, "TERRa", {"default": TERRA_ROWS})
    return root


def _run(scratch: Path, mirror: Path, model: Path, *extra: str) -> list[str]:
    argv = ["run", "-m", str(model), "-t", "TERRa", "--data-dir", str(mirror), "--device", "cpu"]
    return [*argv, "--output-folder", str(scratch / "out"), *extra]


def _served(scratch: Path, mirror: Path, *extra: str) -> list[str]:
    argv = ["run", "--endpoint", f"http://127.0.0.1:{_closed_port()}", "-m", "minilm", "-t", "TERRa"]
    return [*argv, "--data-dir", str(mirror), "--output-folder", str(scratch / "out"), *extra]


# (bad value, the arguments, what the error line says)
# fmt: off
BAD_VALUES: list[tuple[str, Argv, str]] = [
    ("-m", lambda s, m, _: _run(s, m, s / "nope"), "does not exist"),
    ("-b", lambda s, m, p: ["run", "-m", str(p), "-b", "ruMTEB(v9)", "--data-dir", str(m)], "Unknown benchmark"),
    ("-t", lambda s, m, p: ["run", "-m", str(p), "-t", "TERRA", "--data-dir", str(m)], "Did you mean: TERRa?"),
    ("--data-dir", lambda s, m, p: _run(s, s / "missing", p), "does not exist"),
    ("--output-folder", lambda s, m, p: [*_run(s, m, p), "--output-folder", str(s / "file" / "o")], "is a file"),
    ("--batch-size", lambda s, m, p: _run(s, m, p, "--batch-size", "0"), "'--batch-size' option"),
    ("--device", lambda s, m, p: _run(s, m, p, "--device", "gpu"), "'--device' option must be cpu, cuda"),
    ("--max-tokens-per-batch", lambda s, m, p: _run(s, m, p, "--max-tokens-per-batch", "0"), "positive int"),
    ("--max-memory", lambda s, m, p: _run(s, m, p, "--max-memory", "lots"), "'--max-memory' option"),
    ("--cache-dir", lambda s, m, p: _run(s, m, p, "--cache-dir", str(s / "file")), "'--cache-dir' option"),
    ("--ray-address", lambda s, m, p: _run(s, m, p, "--ray-address", "x:1"), "'--ray-address' option"),
    ("--endpoint", lambda s, m, _: [*_served(s, m), "--endpoint", "ftp://x"], "'--endpoint' option"),
    ("--api-key-env", lambda s, m, _: _served(s, m, "--api-key-env", "RUMTEB_UNSET_VAR"), "not set"),
    ("--max-concurrency", lambda s, m, _: _served(s, m, "--max-concurrency", "0"), "'--max-concurrency'"),
    ("--max-tokens-per-request", lambda s, m, _: _served(s, m, "--max-tokens-per-request", "0"), "positive int"),
    ("--model-revision", lambda s, m, _: _run(s, m, Path("ai-forever/ru-en-RoSBERTa"), "--model-revision", "x"),
     "89fb1651"),
    ("--prompts", lambda s, m, p: _run(s, m, p, "--prompts", str(s / "none.json")), "Cannot read the prompts file"),
    ("--prompts", lambda s, m, p: _run(s, m, p, "--prompts", str(s / "list.json")), "must hold a JSON object"),
    ("--prediction-folder", lambda s, m, p: _run(s, m, p, "--prediction-folder", str(s / "file" / "p")),
     "is a file"),
    ("--evaluator-threads", lambda s, m, p: _run(s, m, p, "--evaluator-threads", "-1"), "'--evaluator-threads'"),
    ("table", lambda s, m, p: ["table", str(s / "missing")], "must be existing result folders"),
    ("compare --n-boot", lambda s, m, p: ["compare", str(s), str(s), "--n-boot", "0"], "'--n-boot' option"),
    ("plot --out", lambda s, m, p: ["plot", str(s), "--out", str(s / "fig.txt")], "image suffix"),
    ("data verify", lambda s, m, p: ["data", "verify", str(s / "missing")], "does not exist"),
    ("train", lambda s, m, p: ["train", "no-such-config"], "Unknown training config 'no-such-config'"),
]
# fmt: on


@pytest.mark.parametrize(
    ("option", "argv", "says"), BAD_VALUES, ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_VALUES)]
)
def test_a_bad_value_is_one_line(
    option: str,
    argv: Argv,
    says: str,
    mirror: Path,
    tiny_model_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("RUMTEB_UNSET_VAR", raising=False)
    (tmp_path / "file").write_text("a file, not a folder")
    (tmp_path / "list.json").write_text("[1]")
    assert main(argv(tmp_path, mirror, tiny_model_path)) == 1
    line = _error_line(capsys.readouterr().err)
    assert says in line, line


@pytest.mark.parametrize(
    "option", ["--encoder", "--precision", "--engine", "--pooling", "--overwrite-strategy"]
)
def test_a_bad_choice_is_a_usage_error(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "-m", "x", "-t", "TERRa", option, "nonsense"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"argument {option}: invalid choice: 'nonsense'" in err


# --- servers ----------------------------------------------------------------------------------------------------


@pytest.fixture
def http_server() -> Iterator[Callable[[dict[str, object]], str]]:
    """``start(routes)``: a local HTTP server answering ``routes`` (path -> JSON body; POST .../embeddings in it
    answers one 3-d vector per input) and 404 elsewhere; returns its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(routes: dict[str, object]) -> str:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                found = self.path in routes
                self._answer(200 if found else 404, routes.get(self.path, {"detail": "Not Found"}))

            def do_POST(self) -> None:
                texts = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["input"]
                if self.path not in routes:
                    self._answer(404, {"detail": "Not Found"})
                    return
                data = [{"index": i, "embedding": [float(len(t)), 1.0, 0.5]} for i, t in enumerate(texts)]
                self._answer(200, {"data": data})

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def _models(*names: str) -> dict[str, object]:
    return {"object": "list", "data": [{"id": name, "object": "model"} for name in names]}


def _endpoint(url: str, mirror: Path, out: Path) -> list[str]:
    argv = ["run", "--endpoint", url, "-m", "minilm", "-t", "TERRa", "--data-dir", str(mirror)]
    return [*argv, "--output-folder", str(out)]


def test_no_server_at_the_endpoint(mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    assert main(_endpoint(url, mirror, tmp_path / "out")) == 1
    line = _error_line(capsys.readouterr().err)
    assert line.startswith(f"rumteb: error: Cannot reach the embedding server at {url}/v1/embeddings"), line


def test_a_server_without_openai_routes_is_a_wrong_path_not_a_wrong_name(
    http_server: Callable[[dict[str, object]], str],
    mirror: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = http_server({})  # 404 for everything
    assert main(_endpoint(url, mirror, tmp_path / "out")) == 1
    line = _error_line(capsys.readouterr().err)
    assert (
        "answered HTTP 404 at" in line and "the URL's path is wrong" in line and "--url-prefix /v1" in line
    ), line
    assert "model name" not in line and "served name" not in line, line


def test_routes_without_v1_are_found_and_used(
    http_server: Callable[[dict[str, object]], str],
    mirror: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from rumteb.models.endpoint import EndpointEncoder

    url = http_server({"/models": _models("minilm"), "/embeddings": {}})  # Infinity without --url-prefix /v1
    with caplog.at_level("INFO", logger="rumteb.models.endpoint"), EndpointEncoder(url, "minilm") as encoder:
        assert encoder.embed_dim == 3 and encoder.encode_texts(["abc"])[0, 0] == 3.0
    assert f"GET /models answered; sending embeddings to {url}/embeddings" in caplog.text
    assert main(_endpoint(url, mirror, tmp_path / "out")) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_a_wrong_served_name_lists_the_served_names(
    http_server: Callable[[dict[str, object]], str],
    mirror: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = http_server({"/v1/models": _models("e5-large"), "/v1/embeddings": {}})
    assert main(_endpoint(url, mirror, tmp_path / "out")) == 1
    line = _error_line(capsys.readouterr().err)
    assert "serves 'e5-large' (GET /v1/models), not 'minilm': a wrong served name" in line, line


# --- devices and clusters ---------------------------------------------------------------------------------------


def test_cuda_without_cuda_names_the_torch_build(
    mirror: Path, tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this torch has CUDA")
    for device in ("cuda", "cuda:1"):
        assert (
            main([*_run(tmp_path, mirror, tiny_model_path), "--device", device, "--encoder", "rumteb"]) == 1
        )
        line = _error_line(capsys.readouterr().err)
        assert f"The device '{device}' is not available: torch {torch.__version__}" in line, line
        assert "--device cpu" in line, line


@pytest.mark.ray
def test_an_unreachable_ray_address_fails_in_seconds(
    mirror: Path, tiny_model_path: Path, tmp_path: Path
) -> None:
    address = f"127.0.0.1:{_closed_port()}"
    argv = [*_run(tmp_path, mirror, tiny_model_path), "--engine", "ray", "--ray-address", address]
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "rumteb", *argv], capture_output=True, text=True, timeout=120, check=False
    )
    assert time.monotonic() - start < 30, done.stderr
    assert done.returncode == 1, done.stderr
    line = _error_line(done.stderr)
    assert f"Cannot reach the Ray cluster at '{address}'" in line and "ray start --head" in line, line


# --- data ---------------------------------------------------------------------------------------------------------


def test_a_missing_mirror_names_the_pull(
    tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(_run(tmp_path, empty, tiny_model_path)) == 1
    line = _error_line(capsys.readouterr().err)
    assert f"rumteb data pull --tasks TERRa --to {empty}" in line, line


def test_a_damaged_mirror_file_names_it(
    tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = mirror_for_task(tmp_path / "mirror", "TERRa", {"default": TERRA_ROWS})
    (parquet,) = folder.rglob("*.parquet")
    parquet.write_bytes(parquet.read_bytes()[:200])
    assert main(_run(tmp_path, tmp_path / "mirror", tiny_model_path)) == 1
    line = _error_line(capsys.readouterr().err)
    assert parquet.name in line and "rumteb data" in line, line


# --- not the user's -------------------------------------------------------------------------------------------------


def _plant(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """TERRa's data loading raises ``error``."""
    task_class = type(rumteb.get_task("TERRa"))

    def load_data(self: object, *args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(task_class, "load_data", load_data)


def test_a_bug_keeps_its_traceback_and_asks_for_a_report(
    mirror: Path,
    tiny_model_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _plant(monkeypatch, AttributeError("'NoneType' object has no attribute 'planted'"))
    assert main(_run(tmp_path, mirror, tiny_model_path)) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "AttributeError: 'NoneType' object has no attribute 'planted'" in err, err
    assert "rumteb: error:" not in err, err
    last = err.rstrip().splitlines()[-1]
    assert last.startswith(f"rumteb: this is a bug in rumteb {rumteb.__version__}; please report it"), last


def test_a_full_disk_and_an_interrupt_are_the_users(
    mirror: Path,
    tiny_model_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "cache.arrow"))
    _plant(monkeypatch, full)
    assert main(_run(tmp_path, mirror, tiny_model_path)) == 1
    line = _error_line(capsys.readouterr().err)
    assert (
        line
        == f"rumteb: error: No space left on device (writing {tmp_path / 'cache.arrow'}). Free space and run again."
    )
    _plant(monkeypatch, KeyboardInterrupt())
    assert main(_run(tmp_path, mirror, tiny_model_path)) == 130
    assert capsys.readouterr().err.strip().endswith("rumteb: interrupted")


# --- the tree -------------------------------------------------------------------------------------------------------

#: Exceptions that never reach a user: control flow between modules (each carries the embeddings that came back
#: before a failure to the code that keeps them, which then raises the cause).
CONTROL_FLOW = {
    "rumteb.models.endpoint._client.PartialEmbeddings",
    "rumteb.models.cache._embedder.IncompleteEmbeddings",
}


def test_every_exception_class_of_rumteb_is_a_rumteb_error() -> None:
    found, outside = [], []
    for module_info in pkgutil.walk_packages(rumteb.__path__, "rumteb."):
        if module_info.name.endswith(".__main__"):  # runs the command line when imported
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if not (inspect.isclass(value) and issubclass(value, BaseException)):
                continue
            if value.__module__ != module.__name__:
                continue  # imported, not defined here
            qualified = f"{module.__name__}.{name}"
            found.append(qualified)
            if (
                not issubclass(value, RumtebError)
                and not name.startswith("_")
                and qualified not in CONTROL_FLOW
            ):
                outside.append(qualified)
    assert len(found) > 20, found
    assert not outside, f"exception classes outside the RumtebError tree: {outside}"
