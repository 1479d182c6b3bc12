"""Tokenize once, sort by length, cut batches by a token budget (numpy only; no torch)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: one planned batch: the flat token ids of its rows and each row's length
Batch = tuple[np.ndarray, np.ndarray]
#: told the number of texts each finished batch held (a progress bar's ``update``)
Progress = Callable[[int], object]


@dataclass(frozen=True)
class Tokenized:
    """Token ids of many texts, flat, with offsets: text ``i`` is ``ids[offsets[i]:offsets[i + 1]]``."""

    ids: np.ndarray
    offsets: np.ndarray
    truncated: int = 0  # texts longer than max_length (cut to it)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def gather(self, rows: np.ndarray) -> Batch:
        """Flat ids and lengths of ``rows``, in that order."""
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        if len(rows) == 0:
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        ids = np.concatenate([self.ids[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)])
        return ids, (ends - starts).astype(np.int32)


def tokenize(tokenizer: Any, texts: Sequence[str], max_length: int, chunk: int = 4096) -> Tokenized:
    """Token ids with special tokens, truncated to ``max_length`` (as sentence-transformers: longest first).

    Each chunk of texts goes to numpy at once, so a large corpus costs 4 bytes per token, not Python lists.
    """
    id_parts: list[np.ndarray] = []
    length_parts: list[np.ndarray] = []
    truncated = 0
    for start in range(0, len(texts), chunk):
        batch = tokenizer(
            list(texts[start : start + chunk]),
            add_special_tokens=True,
            truncation="longest_first",
            max_length=max_length,
            padding=False,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        encoded = batch["input_ids"]
        # a fast tokenizer keeps what truncation cut off; a slow one cannot tell, so a text of exactly
        # max_length tokens counts as cut (an upper bound)
        encodings = getattr(batch, "encodings", None)
        if encodings is not None:
            truncated += sum(1 for encoding in encodings if encoding.overflowing)
        else:
            truncated += sum(1 for ids in encoded if len(ids) >= max_length)
        lengths = np.fromiter((len(ids) for ids in encoded), dtype=np.int64, count=len(encoded))
        id_parts.append(
            np.fromiter(itertools.chain.from_iterable(encoded), dtype=np.int32, count=int(lengths.sum()))
        )
        length_parts.append(lengths)
    lengths = np.concatenate(length_parts) if length_parts else np.zeros(0, dtype=np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.concatenate(id_parts) if id_parts else np.zeros(0, dtype=np.int32)
    return Tokenized(ids=ids, offsets=offsets, truncated=truncated)


def plan_batches(lengths: np.ndarray, tie_break: np.ndarray, max_tokens: int) -> list[np.ndarray]:
    """Rows grouped into batches of at most ``max_tokens`` padded tokens (rows x longest row), longest first.

    Ties in length are ordered by ``tie_break`` (content keys), so the plan depends on the set of texts and the
    budget, never on the order the texts came in. A row longer than the budget gets a batch of its own.
    """
    if max_tokens < 1:
        raise ValueError(
            f"The 'max_tokens_per_batch' parameter must be a positive int. Got {max_tokens!r} instead."
        )
    order = np.lexsort((tie_break, -np.asarray(lengths, dtype=np.int64)))
    sorted_lengths = np.asarray(lengths)[order]
    batches = []
    start = 0
    while start < len(order):
        longest = max(int(sorted_lengths[start]), 1)
        size = max(1, max_tokens // longest)
        batches.append(order[start : start + size])
        start += size
    return batches
