"""Exact top-k on the encoder's device, as an mteb search backend (``IndexEncoderSearchProtocol``).

mteb's default retrieval path (``SearchEncoderWrapper`` without a backend) encodes the corpus in 50,000-document
chunks, scores each chunk on the CPU and merges heaps. With this backend the whole corpus is encoded in one call
during ``index`` (so it is sorted and batched by tokens as one set), kept on the device, and each query block is
scored with one matmul per corpus block and ``torch.topk`` there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

_BLOCK_ELEMENTS = 1 << 26  # scores held at once: 64M fp32 = 256 MiB


class DeviceExactSearch:
    """Corpus embeddings on ``device``; exact cosine or dot-product top-k."""

    def __init__(self, device: str, cosine: bool) -> None:
        self.device = torch.device(device)
        self.cosine = cosine
        self.corpus: torch.Tensor | None = None
        self.ids: list[str] = []

    def add_documents(self, embeddings: Any, idxs: list[str]) -> None:
        vectors = torch.as_tensor(np.asarray(embeddings, dtype=np.float32)).to(self.device)
        if self.cosine:
            vectors = F.normalize(vectors, p=2, dim=1)
        self.corpus = vectors if self.corpus is None else torch.cat([self.corpus, vectors])
        self.ids.extend(idxs)

    def _queries(self, embeddings: Any) -> torch.Tensor:
        queries = torch.as_tensor(np.asarray(embeddings, dtype=np.float32)).to(self.device)
        return F.normalize(queries, p=2, dim=1) if self.cosine else queries

    def search(
        self,
        embeddings: Any,
        top_k: int,
        similarity_fn: Callable[[Any, Any], Any],
        top_ranked: Mapping[str, list[str]] | None = None,
        query_idx_to_id: dict[int, str] | None = None,
    ) -> tuple[list[list[float]], list[list[int]]]:
        """Per query: the top-k scores and the indices of their documents (in the corpus, or in the query's
        ``top_ranked`` list when reranking)."""
        if self.corpus is None:
            raise ValueError("No documents indexed; call add_documents() first.")
        queries = self._queries(embeddings)
        if top_ranked is not None:
            if query_idx_to_id is None:
                raise ValueError("query_idx_to_id is required when reranking.")
            return self._rerank(queries, top_k, top_ranked, query_idx_to_id)
        return self._full(queries, top_k)

    def _full(self, queries: torch.Tensor, top_k: int) -> tuple[list[list[float]], list[list[int]]]:
        assert self.corpus is not None
        docs = self.corpus.shape[0]
        k = min(top_k, docs)
        doc_block = max(k, min(docs, _BLOCK_ELEMENTS // max(1, min(queries.shape[0], 1024))))
        values_out: list[list[float]] = []
        index_out: list[list[int]] = []
        for q_start in range(0, queries.shape[0], 1024):
            q = queries[q_start : q_start + 1024]
            best_v: torch.Tensor | None = None
            best_i: torch.Tensor | None = None
            for d_start in range(0, docs, doc_block):
                scores = q @ self.corpus[d_start : d_start + doc_block].T
                v, i = torch.topk(scores, min(k, scores.shape[1]), dim=1)
                i = i + d_start
                if best_v is None or best_i is None:
                    best_v, best_i = v, i
                else:
                    v, pick = torch.topk(torch.cat([best_v, v], 1), k, dim=1)
                    best_i = torch.gather(torch.cat([best_i, i], 1), 1, pick)
                    best_v = v
            assert best_v is not None and best_i is not None
            values_out.extend(best_v.cpu().tolist())
            index_out.extend(best_i.cpu().tolist())
        return values_out, index_out

    def _rerank(
        self,
        queries: torch.Tensor,
        top_k: int,
        top_ranked: Mapping[str, list[str]],
        query_idx_to_id: dict[int, str],
    ) -> tuple[list[list[float]], list[list[int]]]:
        assert self.corpus is not None
        position = {doc: i for i, doc in enumerate(self.ids)}
        values_out: list[list[float]] = []
        index_out: list[list[int]] = []
        for q_idx in range(queries.shape[0]):
            ranked = top_ranked.get(query_idx_to_id[q_idx]) or []
            if not ranked:
                values_out.append([])
                index_out.append([])
                continue
            rows = torch.tensor([position[doc] for doc in ranked], device=self.device)
            scores = self.corpus.index_select(0, rows) @ queries[q_idx]
            v, i = torch.topk(scores, min(top_k, len(ranked)))
            values_out.append(v.cpu().tolist())
            index_out.append(i.cpu().tolist())
        return values_out, index_out

    def clear(self) -> None:
        self.corpus = None
        self.ids = []
