"""Peak memory and time of retrieval as the corpus grows: mteb's default path against rumteb's streaming search.

    python benchmarks/scale_retrieval.py [--sizes 100000 300000 1000000] [--queries 1000] [--ray-size 300000]
                                         [--json out.json]

Method. A synthetic corpus of N documents (8-24 real Russian words each, drawn from ../shared/data) and Q queries
(a few words of one document each; that document is the relevant one) is written as an offline mirror of
RiaNewsRetrieval (top-k 1,000, nDCG@10). The model is a 1-layer random BERT (hidden 32, a WordPiece vocabulary
trained on the shared data) with a Dense layer to 1,024 dimensions, so that embeddings cost what a 1024-d model's
cost while the model costs little compute. Each run is a fresh process that prints its peak RSS (VmHWM, and peak
CUDA memory on a GPU), seconds and nDCG@10:

  (a) ``mteb.evaluate(SentenceTransformer(model))``: mteb's default search (50,000-document chunks, heaps), fp32;
  (b) ``mteb.evaluate(rumteb.models.Encoder(model, precision="fp32"))``: streaming exact search, default budget;
  (r) (b) with ``engine="ray"`` and two local CPU actors (only at ``--ray-size``).

Targets: (b)'s peak RSS at the largest size <= 1.25x its peak at the smallest and <= (a)'s; (b)'s time <= (a)'s;
equal nDCG@10.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared" / "data"
TASK = "RiaNewsRetrieval"


def russian_words(shared: Path = SHARED, limit: int = 20000) -> list[str]:
    """Distinct lower-case words of the shared Russian sentences."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    import _helpers

    words: dict[str, None] = {}
    for sentence in _helpers.russian_sentences(shared, limit=6000):
        for word in sentence.lower().split():
            word = word.strip('.,:;!?«»"()—-')
            if word.isalpha():
                words.setdefault(word)
    return list(words)[:limit]


def build_wide_model(folder: Path, shared: Path = SHARED, dim: int = 1024) -> Path:
    """A 1-layer BERT (hidden 32) sentence-transformers folder with a Dense layer to ``dim`` outputs."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    import _helpers
    import torch
    from sentence_transformers import SentenceTransformer, models

    base = _helpers.build_tiny_bert(folder / "base", shared, layers=1, hidden=32)
    model = SentenceTransformer(str(base), device="cpu", local_files_only=True)
    torch.manual_seed(1)
    dense = models.Dense(32, dim, activation_function=torch.nn.Identity())
    wide = SentenceTransformer(modules=[*model, dense], device="cpu")
    out = folder / "wide"
    wide.save(str(out))
    return out


def write_corpus(
    root: Path,
    n_docs: int,
    n_queries: int,
    shared: Path = SHARED,
    seed: int = 0,
    words_per_doc: tuple[int, int] = (8, 24),
) -> Path:
    """A RiaNewsRetrieval mirror under ``root`` with a synthetic corpus; returns ``root``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    import rumteb

    words = np.array(russian_words(shared))
    rng = np.random.default_rng(seed)
    lengths = rng.integers(words_per_doc[0], words_per_doc[1] + 1, size=n_docs)
    picks = rng.integers(0, len(words), size=int(lengths.sum()))
    ends = np.cumsum(lengths)
    texts = [" ".join(words[picks[e - n : e]]) for e, n in zip(ends.tolist(), lengths.tolist(), strict=True)]
    ids = [f"d{i}" for i in range(n_docs)]
    targets = rng.choice(n_docs, size=n_queries, replace=False)
    queries = []
    for target in targets.tolist():
        doc_words = texts[target].split()
        start = int(rng.integers(0, max(1, len(doc_words) - 4)))
        queries.append(" ".join(doc_words[start : start + 3]))
    path = rumteb.get_task(TASK).metadata.dataset["path"]
    folder = root.joinpath(*path.split("/"))
    tables = {
        "corpus": pa.table({"id": ids, "title": [""] * n_docs, "text": texts}),
        "queries": pa.table({"id": [f"q{i}" for i in range(n_queries)], "text": queries}),
        "default": pa.table(
            {
                "query-id": [f"q{i}" for i in range(n_queries)],
                "corpus-id": [ids[t] for t in targets.tolist()],
                "score": [1] * n_queries,
            }
        ),
    }
    lines = ["---", "configs:"]
    for config, table in tables.items():
        rel = f"{config}/test-00000-of-00001.parquet"
        (folder / config).mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / rel)
        lines += [f"- config_name: {config}", "  data_files:", "  - split: test", f"    path: {rel}"]
    lines += ["---", "", "Synthetic corpus written by benchmarks/scale_retrieval.py.", ""]
    (folder / "README.md").write_text("\n".join(lines), encoding="utf-8")
    return root


_WORKER = r"""
import json, os, resource, sys, time
mode, model, data = sys.argv[1:4]
extra = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
start = time.perf_counter()
import mteb, rumteb, torch
task = rumteb.get_task("RiaNewsRetrieval", data_dir=data)
task.load_data()
documents = len(task.dataset["default"]["test"]["corpus"])
if mode == "mteb":
    from sentence_transformers import SentenceTransformer
    encoder = SentenceTransformer(model, device="cpu", local_files_only=True)
else:
    from rumteb.models import Encoder
    encoder = Encoder(model, device=extra.get("device", "cpu"), precision=extra.get("precision", "fp32"),
                      **extra.get("kwargs", {}))
def status_mib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
loaded = status_mib("VmRSS")
result = mteb.evaluate(encoder, [task], cache=None, show_progress_bar=False)
(task_result,) = result.task_results
scores = task_result.scores["test"][0]
# VmHWM: this process's own peak. ru_maxrss is not: after fork + exec it starts from the parent's resident size,
# so a large parent (a test session, the corpus writer) would be reported as the child's peak.
peak = status_mib("VmHWM")
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
out = {"mode": mode, "seconds": time.perf_counter() - start, "peak_rss_mib": peak, "rss_after_load_mib": loaded,
       "children_peak_rss_mib": children, "documents": documents, "ndcg_at_10": scores["ndcg_at_10"], "map_at_1000": scores["map_at_1000"]}
if torch.cuda.is_available():
    out["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
print("RESULT " + json.dumps(out))
"""


def run_worker(mode: str, model: Path, data: Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """One evaluation in a fresh process; its measurements."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    # a local Ray cluster on the loopback address only (Ray otherwise advertises the machine's outward address)
    env.update(RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_AUTH_MODE="disabled")
    # a datasets cache of its own: datasets keys local folders by name, so another corpus under the same name
    # (an earlier run, a test) could otherwise be read instead of this one
    env["HF_DATASETS_CACHE"] = str(Path(data) / ".hf-datasets-cache")
    cmd = [sys.executable, "-c", _WORKER, mode, str(model), str(data), json.dumps(extra or {})]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{mode} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return dict(json.loads(lines[-1][len("RESULT ") :]))


def cpu_name() -> str:
    """The CPU model and its vector/matrix flags."""
    name, flags = platform.processor(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name") and not name.strip():
                    name = line.split(":", 1)[1].strip()
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    kinds = [f for f in ("avx2", "avx512f", "amx_bf16") if f in flags]
    return f"{name} x{os.cpu_count()} ({', '.join(kinds) or 'no avx2'})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--ray-size", type=int, default=300_000, help="0: no Ray run")
    parser.add_argument("--skip-mteb-above", type=int, default=None, help="no (a) run above this size")
    parser.add_argument(
        "--words", type=int, nargs=2, default=[8, 24], metavar=("MIN", "MAX"), help="per document"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    print(f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {cpu_name()}, load {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="rumteb-scale-") as tmp:
        model = build_wide_model(Path(tmp) / "model")
        for size in args.sizes:
            data = write_corpus(
                Path(tmp) / f"data-{size}", size, args.queries, words_per_doc=tuple(args.words)
            )
            runs = ["rumteb"]
            if args.skip_mteb_above is None or size <= args.skip_mteb_above:
                runs.insert(0, "mteb")
            for mode in runs:
                t0 = time.perf_counter()
                out = run_worker(mode, model, data)
                out.update(docs=size, queries=args.queries, wall=time.perf_counter() - t0)
                rows.append(out)
                print(json.dumps(out), flush=True)
            if size == args.ray_size:
                out = run_worker(
                    "rumteb-ray", model, data, {"kwargs": {"engine": "ray"}, "device": ["cpu", "cpu"]}
                )
                out.update(docs=size, queries=args.queries)
                rows.append(out)
                print(json.dumps(out), flush=True)
    print("\n| docs | run | peak RSS MiB | s | nDCG@10 |\n|---:|---|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['docs']:,} | {row['mode']} | {row['peak_rss_mib']:,.0f} | {row['seconds']:.1f} "
            f"| {row['ndcg_at_10']:.5f} |"
        )
    ours = [r for r in rows if r["mode"] == "rumteb"]
    if len(ours) > 1:
        print(
            f"\nrumteb peak RSS, largest / smallest size: {ours[-1]['peak_rss_mib'] / ours[0]['peak_rss_mib']:.2f}"
        )
    for size in args.sizes:
        pair = {r["mode"]: r for r in rows if r["docs"] == size}
        if "mteb" in pair and "rumteb" in pair:
            a, b = pair["mteb"], pair["rumteb"]
            print(
                f"{size:,} docs: RSS rumteb/mteb {b['peak_rss_mib'] / a['peak_rss_mib']:.2f}, "
                f"time rumteb/mteb {b['seconds'] / a['seconds']:.2f}, "
                f"nDCG equal: {abs(a['ndcg_at_10'] - b['ndcg_at_10']) < 1e-9}"
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
