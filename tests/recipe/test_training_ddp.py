"""Multi-process training: one dataset per global step on every rank, negatives gathered across ranks.

The end-to-end test launches 2 CPU processes with ``torchrun`` (gloo backend); the sampler tests replay accelerate's
sharding of batches to ranks in-process, against sentence-transformers' own sampler as the negative control.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _helpers import read_jsonl

WORKER = """
import json, os, sys
import torch
torch.set_num_threads(1)
from sentence_transformers import SentenceTransformerTrainer
from rumteb.recipe.config import config_from_dict
from rumteb.recipe.training import train

anchors = []
original = SentenceTransformerTrainer.compute_loss

def recording(self, model, inputs, *args, **kwargs):
    if model.training:
        anchors.append(inputs["anchor_input_ids"].tolist())
    return original(self, model, inputs, *args, **kwargs)

SentenceTransformerTrainer.compute_loss = recording
result = train(config_from_dict(json.loads(open(sys.argv[1]).read())))
rank = int(os.environ["RANK"])
payload = {
    "world_size": result.world_size,
    "global_step": result.global_step,
    "datasets": list(result.step_datasets),
    "losses": list(result.losses),
    "anchors": anchors,
    "model_dir": str(result.model_dir),
}
open(f"{sys.argv[2]}.{rank}.json", "w").write(json.dumps(payload))
"""


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> str:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return str(path)


def _tiny_datasets(shared_data: Path, tmp_path: Path) -> list[dict[str, object]]:
    train = shared_data / "train"
    sources = {
        "paraphraser": [r for r in read_jsonl(train / "paraphraser" / "train.jsonl") if r["label"] == 1][:48],
        "stsb_ru": read_jsonl(train / "stsb_multi_mt" / "ru-train.jsonl")[:32],
        "stsb_en": read_jsonl(train / "stsb_multi_mt" / "en-train.jsonl")[:32],
    }
    return [
        {
            "name": name,
            "path": _write_jsonl(tmp_path / f"{name}.jsonl", rows),
            "anchor": "sentence1",
            "positive": "sentence2",
            "prefixes": {"anchor": "search_query: "},
        }
        for name, rows in sources.items()
    ]


@pytest.mark.slow
def test_two_process_cpu_training_aligns_datasets_per_step(
    tiny_model_path: Path, shared_data: Path, tmp_path: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    steps = 8
    config = {
        "base_model": str(tiny_model_path),
        "output_dir": str(tmp_path / "run"),
        "max_seq_length": 32,
        "batch_size": 4,
        "mini_batch_size": 2,
        "learning_rate": 1e-3,
        "warmup_ratio": 0.0,
        "max_steps": steps,
        "precision": "fp32",
        "logging_steps": 1,
        "datasets": _tiny_datasets(shared_data, tmp_path),
    }
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (tmp_path / "worker.py").write_text(WORKER, encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    command += [str(tmp_path / "worker.py"), str(tmp_path / "config.json"), str(tmp_path / "result")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]

    ranks = [json.loads((tmp_path / f"result.{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert [r["global_step"] for r in ranks] == [steps, steps]
    assert len(ranks[0]["datasets"]) == steps
    # The point of the sampler: both ranks hold a batch of the same dataset at every step ...
    assert ranks[0]["datasets"] == ranks[1]["datasets"]
    assert len(set(ranks[0]["datasets"])) > 1, "all steps drew one dataset: the test would prove nothing"
    # ... but not the same batch.
    assert all(a != b for a, b in zip(ranks[0]["anchors"], ranks[1]["anchors"], strict=True))
    assert all(len(batch) == 4 for r in ranks for batch in r["anchors"])
    # Negatives gathered across ranks: logged losses are identical (reduced) and finite on both ranks.
    assert ranks[0]["losses"] == pytest.approx(ranks[1]["losses"])
    assert len(ranks[0]["losses"]) == steps and all(math.isfinite(x) for x in ranks[0]["losses"])

    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == ["final", "training_config.yaml"]
    model = SentenceTransformer(ranks[0]["model_dir"], device="cpu")
    assert model.prompts["search_query"] == "search_query: "
    assert model.encode(["Привет, мир"]).shape == (1, 64)


def _batch_samplers(sizes: list[int], batch_size: int) -> tuple[object, list[object]]:
    from sentence_transformers.base.sampler import DefaultBatchSampler
    from torch.utils.data import ConcatDataset, SequentialSampler

    datasets = [list(range(n)) for n in sizes]
    samplers = [
        DefaultBatchSampler(SequentialSampler(d), batch_size=batch_size, drop_last=True) for d in datasets
    ]
    return ConcatDataset(datasets), samplers


def _dataset_per_rank_and_step(batch_sampler: object, sizes: list[int], world_size: int) -> list[list[int]]:
    """Which dataset each rank's batch comes from at each step, after accelerate shards the batches."""
    from accelerate.data_loader import BatchSamplerShard

    bounds = torch.tensor(sizes).cumsum(0)
    per_rank = []
    for rank in range(world_size):
        shard = BatchSamplerShard(
            batch_sampler, num_processes=world_size, process_index=rank, even_batches=False
        )
        per_rank.append([int(torch.searchsorted(bounds, batch[0], right=True)) for batch in shard])
    return per_rank


@pytest.mark.parametrize("mode", ["proportional", "round_robin"])
@pytest.mark.parametrize("world_size", [1, 2, 4])
def test_step_aligned_sampler_gives_all_ranks_one_dataset_per_step(mode: str, world_size: int) -> None:
    from rumteb.recipe._sampler import StepAlignedBatchSampler

    sizes = [64, 40, 24]
    dataset, samplers = _batch_samplers(sizes, batch_size=4)
    sampler = StepAlignedBatchSampler(dataset, samplers, seed=3, num_processes=world_size, mode=mode)
    per_rank = _dataset_per_rank_and_step(sampler, sizes, world_size)
    assert all(len(r) == len(per_rank[0]) for r in per_rank)
    assert len(per_rank[0]) * world_size == len(sampler)
    assert all(len(set(step)) == 1 for step in zip(*per_rank, strict=True))
    assert set(per_rank[0]) == {0, 1, 2}
    indices = [i for batch in sampler for i in batch]
    assert len(indices) == len(set(indices)), "a batch was yielded twice"
    if mode == "proportional":
        assert len(sampler) == sum((n // 4) // world_size * world_size for n in sizes)


def test_sentence_transformers_sampler_mixes_datasets_within_a_step() -> None:
    """Negative control: the stock proportional sampler, sharded to 2 ranks, mixes datasets in some step."""
    from sentence_transformers.base.sampler import ProportionalBatchSampler

    sizes = [64, 40, 24]
    dataset, samplers = _batch_samplers(sizes, batch_size=4)
    generator = torch.Generator()
    stock = ProportionalBatchSampler(dataset, samplers, generator=generator, seed=3)
    per_rank = _dataset_per_rank_and_step(stock, sizes, 2)
    assert any(len(set(step)) > 1 for step in zip(*per_rank, strict=True))
