"""Exact retrieval over a corpus that arrives in chunks: memory bounded by the chunk and by queries x top-k.

Documents are scored against every query on the device as they arrive and merged into a running top-k per query
(fp32 scores); nothing of a chunk is kept after it is merged. Ties in score are broken as mteb's default search
breaks them (its heap of ``(score, corpus_id)`` keeps the larger id), so the set of documents kept at the k-th
place is the one mteb keeps. Reranking (``top_ranked``) scores only each query's candidates.

The results are assembled from arrays: document ids are looked up once, for the kept hits only, from the
corpus's Arrow id column; no per-hit access to a ``datasets`` column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

_BLOCK_ELEMENTS = 1 << 26  # scores held at once: 64M fp32 = 256 MiB
_QUERY_BLOCK = 1024


def id_column(corpus: Any) -> Any:
    """The corpus's ``id`` column as one Arrow array (row order of the dataset, selections applied)."""
    import pyarrow as pa

    column = corpus.select_columns(["id"]).with_format("arrow")[:]["id"]
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def id_ranks(ids: Any) -> np.ndarray:
    """Each row's place in the sorted order of the ids (Python's order: code points for strings)."""
    import pyarrow.compute as pc

    order = pc.sort_indices(ids).to_numpy()
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order), dtype=np.int64)
    return ranks


def _prepare(embeddings: Any, device: torch.device, cosine: bool, in_place: bool = False) -> torch.Tensor:
    """fp32 on ``device``, L2-normalised for cosine. ``in_place``: a float32 numpy array on the CPU is normalised
    where it lies (no copy of a large chunk); the arithmetic is F.normalize's, so the values are the same."""
    tensor = torch.as_tensor(np.asarray(embeddings, dtype=np.float32)).to(device)
    if not cosine:
        return tensor
    if in_place:  # as F.normalize: x / max(||x||, eps)
        return tensor.div_(tensor.norm(p=2, dim=1, keepdim=True).clamp_min_(1e-12))
    return F.normalize(tensor, p=2, dim=1)


def _sort_by_score_then_rank(values: torch.Tensor, ranks: torch.Tensor) -> torch.Tensor:
    """Column order per row: score descending, then rank descending (mteb's heap keeps the larger id)."""
    by_rank = torch.argsort(ranks, dim=1, descending=True, stable=True)
    by_score = torch.argsort(torch.gather(values, 1, by_rank), dim=1, descending=True, stable=True)
    return torch.gather(by_rank, 1, by_score)


class StreamingTopK:
    """Running exact top-k of every query over corpus chunks added in row order.

    Args:
        queries: Query embeddings ``[Q, d]`` (any float dtype; scored in fp32).
        top_k: Documents kept per query.
        ranks: `id_ranks` of the whole corpus (decides ties).
        device: Where scores are computed.
        cosine: Normalise queries and documents (cosine similarity); else dot product.
    """

    def __init__(self, queries: Any, top_k: int, ranks: np.ndarray, device: str, cosine: bool) -> None:
        if top_k < 1:
            raise ValueError(f"The 'top_k' parameter of StreamingTopK must be a positive int. Got {top_k!r}.")
        self.device = torch.device(device)
        self.cosine = cosine
        self.top_k = int(top_k)
        self.queries = _prepare(queries, self.device, cosine)
        self.ranks = torch.as_tensor(ranks, dtype=torch.int64, device=self.device)
        n = self.queries.shape[0]
        # empty places: -inf at row -1 (finite scores always sort before them; result() cuts them off)
        self.values = torch.full((n, self.top_k), -torch.inf, dtype=torch.float32, device=self.device)
        self.index = torch.full((n, self.top_k), -1, dtype=torch.int64, device=self.device)
        self.rows_seen = 0

    def add(self, documents: Any) -> None:
        """Score the next chunk of documents (rows continue from the previous chunk) and merge it.

        A float32 numpy ``documents`` on the CPU is normalised in place (cosine): no copy of a large chunk.
        """
        docs = _prepare(documents, self.device, self.cosine, in_place=True)
        start = self.rows_seen
        self.rows_seen += docs.shape[0]
        if docs.shape[0] == 0:
            return
        n_queries = self.queries.shape[0]
        doc_block = max(self.top_k, _BLOCK_ELEMENTS // max(1, min(n_queries, _QUERY_BLOCK)))
        for d_start in range(0, docs.shape[0], doc_block):
            block = docs[d_start : d_start + doc_block]
            for q_start in range(0, n_queries, _QUERY_BLOCK):
                q_stop = min(n_queries, q_start + _QUERY_BLOCK)
                scores = self.queries[q_start:q_stop] @ block.T
                values, index = self._block_top(scores, start + d_start)
                self._merge(q_start, q_stop, values, index)
        del docs

    def _block_top(self, scores: torch.Tensor, offset: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Top-k of one score block with exact tie handling at the k-th place."""
        n_docs = scores.shape[1]
        if n_docs <= self.top_k:
            index = torch.arange(n_docs, device=self.device).expand(scores.shape[0], n_docs)
            return scores, index + offset
        values, index = torch.topk(scores, self.top_k, dim=1)
        threshold = values[:, -1:]
        # topk picks among documents tied with the k-th score by position; where some were left out, take the
        # tied ones with the largest ids, as mteb's heap does
        left_out = (scores >= threshold).sum(dim=1) > self.top_k
        if bool(left_out.any()):
            values, index = values.clone(), index.clone()
            for row in torch.nonzero(left_out).flatten().tolist():
                tied_value = values[row, -1]
                above = torch.nonzero(scores[row] > tied_value).flatten()
                tied = torch.nonzero(scores[row] == tied_value).flatten()
                keep = self.top_k - above.numel()
                by_rank = torch.argsort(self.ranks[tied + offset], descending=True)[:keep]
                chosen = torch.cat([above, tied[by_rank]])
                order = _sort_by_score_then_rank(
                    scores[row, chosen].unsqueeze(0), self.ranks[chosen + offset].unsqueeze(0)
                )[0]
                index[row] = chosen[order]
                values[row] = scores[row, index[row]]
        return values, index + offset

    def _merge(self, q_start: int, q_stop: int, values: torch.Tensor, index: torch.Tensor) -> None:
        all_values = torch.cat([self.values[q_start:q_stop], values], dim=1)
        all_index = torch.cat([self.index[q_start:q_stop], index], dim=1)
        order = _sort_by_score_then_rank(all_values, self.ranks[all_index])[:, : self.top_k]
        self.values[q_start:q_stop] = torch.gather(all_values, 1, order)
        self.index[q_start:q_stop] = torch.gather(all_index, 1, order)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """Per query, the kept scores (descending) and their corpus rows: ``[Q, min(k, rows)]`` each."""
        width = min(self.top_k, self.rows_seen)
        return self.values[:, :width].cpu().numpy(), self.index[:, :width].cpu().numpy()


def candidate_rows(
    ids: Any, query_ids: Sequence[str], top_ranked: Mapping[str, Sequence[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """(query position, corpus row) of every candidate in ``top_ranked``, in each query's list order.

    Raises:
        KeyError: A candidate id is not in the corpus.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    query_pos: list[np.ndarray] = []
    flat: list[str] = []
    for position, qid in enumerate(query_ids):
        ranked = list(top_ranked.get(qid) or [])
        flat.extend(ranked)
        query_pos.append(np.full(len(ranked), position, dtype=np.int64))
    wanted = pa.array(flat, type=ids.type) if flat else pa.array([], type=ids.type)
    rows = pc.index_in(wanted, value_set=ids)
    if rows.null_count:
        missing = [flat[i] for i in np.flatnonzero(rows.is_null().to_numpy(zero_copy_only=False))[:5]]
        raise KeyError(f"top_ranked names documents that are not in the corpus: {missing}")
    positions = np.concatenate(query_pos) if query_pos else np.zeros(0, dtype=np.int64)
    return positions, rows.to_numpy(zero_copy_only=False).astype(np.int64)


class StreamingRerank:
    """Scores of each query's candidate documents only, collected as the corpus chunks arrive."""

    def __init__(
        self, queries: Any, query_positions: np.ndarray, rows: np.ndarray, device: str, cosine: bool
    ) -> None:
        self.device = torch.device(device)
        self.cosine = cosine
        self.queries = _prepare(queries, self.device, cosine)
        self.query_positions = query_positions
        self.rows = rows
        self.order = np.argsort(rows, kind="stable")  # pairs by corpus row, to find a chunk's pairs fast
        self.sorted_rows = rows[self.order]
        self.scores = np.full(len(rows), np.nan, dtype=np.float32)
        self.rows_seen = 0

    def add(self, documents: Any) -> None:
        docs = _prepare(documents, self.device, self.cosine, in_place=True)
        start, stop = self.rows_seen, self.rows_seen + docs.shape[0]
        self.rows_seen = stop
        lo, hi = np.searchsorted(self.sorted_rows, [start, stop])
        pairs = self.order[lo:hi]
        pairs = pairs[np.argsort(self.query_positions[pairs], kind="stable")]
        cuts = np.flatnonzero(np.diff(self.query_positions[pairs])) + 1
        # one (1 x d) @ (d x m) product per query, as mteb scores a query's candidates: the same kernel, so the
        # same rounding (an element-wise product and sum rounds differently and can swap near-ties)
        for group in np.split(pairs, cuts):
            if group.size == 0:
                continue
            q = int(self.query_positions[group[0]])
            candidates = docs[torch.as_tensor(self.rows[group] - start, device=self.device)]
            self.scores[group] = (self.queries[q : q + 1] @ candidates.T)[0].cpu().numpy()

    def top(self, top_k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per query: (scores, positions in its candidate list) of its top-k, as mteb's ``torch.topk`` picks."""
        out = []
        bounds = np.searchsorted(self.query_positions, np.arange(self.queries.shape[0] + 1))
        for q in range(self.queries.shape[0]):
            scores = torch.from_numpy(self.scores[bounds[q] : bounds[q + 1]])
            if scores.numel() == 0:
                out.append((np.zeros(0, np.float32), np.zeros(0, np.int64)))
                continue
            values, index = torch.topk(scores, min(top_k, scores.numel()))
            out.append((values.numpy(), index.numpy()))
        return out
