"""Texts/s through one OpenAI-compatible embedding server: mteb's OpenAIAPIEncodeWrapper (one request after another)
against rumteb's EndpointEncoder at concurrency 1, 4 and 16, interleaved in one run, on real Russian sentences.

Start a server first, e.g. Infinity on CPU serving all-MiniLM-L6-v2 under the name ``minilm``::

    infinity_emb v2 --model-id MINILM_FOLDER --served-model-name minilm --url-prefix /v1 --port 7997 \\
        --engine torch --device cpu --no-bettertransformer
    python benchmarks/endpoint_throughput.py --server http://127.0.0.1:7997 --model minilm

(tests/models/test_endpoint.py builds such a server's virtual environment in the temp folder as rumteb-infinity-venv.)
Both clients send batches of 32 texts (mteb's default encode batch size and TEI's default request limit); each run
uses a fresh client, so no embedding is reused. Prints texts/s per client and the ratio to mteb's wrapper.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _texts(n: int) -> list[str]:
    texts: list[str] = []
    for line in (SHARED / "train" / "paraphraser" / "train.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        texts += [row["sentence1"], row["sentence2"]]
    unique = sorted(set(texts))
    random.Random(0).shuffle(unique)
    if len(unique) < n:
        sys.exit(f"only {len(unique)} distinct texts in {SHARED}; ask for fewer with --texts")
    return unique[:n]


def _mteb_wrapper(server: str, model: str, texts: list[str]) -> float:
    import datasets
    from mteb._create_dataloaders import create_dataloader
    from mteb.models.openai_wrappers import OpenAIAPIEncodeWrapper

    import rumteb

    task = rumteb.get_task("TERRa")
    loader = create_dataloader(
        datasets.Dataset.from_dict({"text": texts}), task_metadata=task.metadata, batch_size=32
    )
    wrapper = OpenAIAPIEncodeWrapper(endpoint_url=server, model_name=model, use_chat_template=False)
    start = time.perf_counter()
    out = wrapper.encode(loader, task_metadata=task.metadata, hf_split="dev", hf_subset="default")
    seconds = time.perf_counter() - start
    assert len(out) == len(texts)
    return len(texts) / seconds


def _rumteb(server: str, model: str, texts: list[str], concurrency: int) -> float:
    from rumteb.models.endpoint import EndpointEncoder

    with EndpointEncoder(server, model, max_concurrency=concurrency, max_texts_per_request=32) as encoder:
        start = time.perf_counter()
        out = encoder.encode_texts(texts)
        seconds = time.perf_counter() - start
    assert out.shape[0] == len(texts)
    return len(texts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", required=True, help="the server's base URL, e.g. http://127.0.0.1:7997")
    parser.add_argument("--model", default="minilm", help="the served model name (default minilm)")
    parser.add_argument("--texts", type=int, default=2000, help="distinct texts per run (default 2000)")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved repeats (default 2)")
    args = parser.parse_args()
    texts = _texts(args.texts)
    clients = {"mteb OpenAIAPIEncodeWrapper": lambda: _mteb_wrapper(args.server, args.model, texts)}
    for concurrency in (1, 4, 16):
        clients[f"rumteb EndpointEncoder, concurrency {concurrency}"] = lambda c=concurrency: _rumteb(
            args.server, args.model, texts, c
        )
    _rumteb(args.server, args.model, texts[:64], 4)  # warm the server up
    rates: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(args.repeats):
        for name, run in clients.items():
            rates[name].append(run())
    base = statistics.median(rates["mteb OpenAIAPIEncodeWrapper"])
    print(f"# {len(texts)} texts, {args.repeats} interleaved repeats, server {args.server} ({args.model})")
    print(
        f"# client machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print("| client | texts/s (median) | vs mteb |")
    print("|---|---:|---:|")
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"| {name} | {rate:.0f} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()
