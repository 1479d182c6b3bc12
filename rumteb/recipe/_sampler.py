"""A multi-dataset batch sampler that gives every rank of a DDP run a batch of the same dataset at each step.

sentence-transformers' ``ProportionalBatchSampler`` and ``RoundRobinBatchSampler`` yield each batch from one
dataset, but under DDP accelerate's ``BatchSamplerShard`` deals consecutive batches to the ranks (batch ``k`` goes
to rank ``k % world_size``), so the ranks of one optimizer step usually hold batches of *different* datasets, and
negatives gathered across devices mix sources. This sampler yields batches in blocks of ``num_processes``
consecutive batches of one dataset: after sharding, each global step holds a single dataset on every rank. The
dataset order is drawn from ``seed + epoch`` only, so every rank computes the same order without communication.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import Any

import torch
from sentence_transformers.base.sampler import MultiDatasetDefaultBatchSampler

__all__ = ["StepAlignedBatchSampler", "dataset_blocks"]


def dataset_blocks(
    batches: Sequence[Sequence[list[int]]], num_processes: int, mode: str, generator: torch.Generator
) -> list[tuple[int, list[list[int]]]]:
    """Group each dataset's batches into blocks of ``num_processes`` and order the blocks.

    ``proportional``: every block once, in a random order (larger datasets come up more often);
    ``round_robin``: one block of each dataset in turn until the dataset with fewest blocks runs out.
    Batches smaller than the dataset's largest (a short last batch) are dropped, and so are a dataset's last batches
    that do not fill a block, so all ranks of a step hold equally large batches.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> dataset_blocks([[[0], [1], [2]], [[3], [4]]], 2, "round_robin", g)
        [(0, [[0], [1]]), (1, [[3], [4]])]
    """
    blocks: list[list[tuple[int, list[list[int]]]]] = []
    for index, dataset_batches in enumerate(batches):
        kept = list(dataset_batches)
        if kept:
            size = max(len(batch) for batch in kept)
            kept = [batch for batch in kept if len(batch) == size]
        blocks.append(
            [
                (index, kept[k : k + num_processes])
                for k in range(0, len(kept) - num_processes + 1, num_processes)
            ]
        )
    if mode == "round_robin":
        rounds = min(len(b) for b in blocks) if blocks else 0
        return [blocks[d][r] for r in range(rounds) for d in range(len(blocks))]
    flat = [block for dataset in blocks for block in dataset]
    order = torch.randperm(len(flat), generator=generator).tolist()
    return [flat[i] for i in order]


class StepAlignedBatchSampler(MultiDatasetDefaultBatchSampler):
    """Batches of one dataset per global step across ``num_processes`` ranks (see the module docstring).

    Built by the trainer as ``multi_dataset_batch_sampler(dataset, batch_samplers=..., generator=..., seed=...)``;
    bind ``num_processes`` and ``mode`` with ``functools.partial``. With ``num_processes=1`` it is a
    proportional or round-robin sampler like sentence-transformers' own.

    Example:
        >>> from functools import partial
        >>> factory = partial(StepAlignedBatchSampler, num_processes=2, mode="proportional")  # doctest: +SKIP
    """

    def __init__(
        self,
        dataset: Any,
        batch_samplers: list[Any],
        generator: torch.Generator | None = None,
        seed: int = 0,
        *,
        num_processes: int = 1,
        mode: str = "proportional",
    ) -> None:
        super().__init__(dataset, batch_samplers=batch_samplers, generator=generator, seed=seed)
        self.num_processes = num_processes
        self.mode = mode

    def __iter__(self) -> Iterator[list[int]]:
        offsets = [0, *accumulate(len(d) for d in self.dataset.datasets)]  # type: ignore[arg-type]
        # Child samplers reseed the shared generator themselves (seed + epoch); draw them fully first so that the
        # block order below does not depend on how far they advanced.
        batches = [
            [[i + offsets[d] for i in batch] for batch in sampler]
            for d, sampler in enumerate(self.batch_samplers)
        ]
        own = torch.Generator().manual_seed(int(self.seed or 0) + int(self.epoch))
        blocks = dataset_blocks(batches, self.num_processes, self.mode, own)
        for _, block in blocks:
            yield from block

    def __len__(self) -> int:
        per_dataset = [len(s) // self.num_processes for s in self.batch_samplers]
        if self.mode == "round_robin":
            return min(per_dataset) * len(per_dataset) * self.num_processes
        return sum(per_dataset) * self.num_processes
