"""Retrieval for rumteb's encoders (mteb's ``SearchProtocol``): the corpus streams through in chunks, searched
exactly on the device.

`RetrievalMixin` gives `rumteb.models.encoder.Encoder` and `rumteb.models.endpoint.EndpointEncoder` their ``index``
and ``search``: ``index`` only keeps the corpus
(`_Corpus`); ``search`` encodes the queries, then the corpus chunk by chunk (``corpus_chunk_rows`` documents each,
from the ``max_memory`` budget), and merges every chunk into a running top-k (`rumteb.models.search._topk`), so memory
does not grow with the corpus. Similarities other than cosine and dot product go to mteb's own chunked search.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np

if TYPE_CHECKING:
    from mteb.abstasks.task_metadata import TaskMetadata
    from mteb.models.model_meta import ModelMeta
    from mteb.models.models_protocols import EncoderProtocol

logger = logging.getLogger(__name__)


class _Corpus:
    """An indexed corpus waiting for `Encoder.search`."""

    def __init__(self, corpus: Any, cosine: bool, num_proc: int | None) -> None:
        self.corpus = corpus
        self.cosine = cosine
        self.num_proc = num_proc


class RetrievalMixin:
    """mteb's ``SearchProtocol`` for an encoder with mteb's ``encode``: the corpus streams through in chunks,
    searched exactly on the device."""

    # set by the encoder's __init__ (embed_dim may wait for the first embeddings: the queries come first)
    mteb_model_meta: ModelMeta
    devices: list[str]
    engine: str
    max_memory: int | None
    embed_dim: Any  # int; None until the first embeddings arrive (EndpointEncoder)
    _search: Any
    _streaming: bool
    encode: Any  # mteb's EncoderProtocol.encode, from the encoder

    def index(
        self,
        corpus: Any,
        *,
        task_metadata: TaskMetadata,
        hf_split: str,
        hf_subset: str,
        encode_kwargs: Mapping[str, Any],
        num_proc: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Take the corpus (mteb's ``SearchProtocol.index``); it is encoded chunk by chunk during `search`."""
        from mteb.models.model_meta import ScoringFunction
        from mteb.models.search_wrappers import SearchEncoderWrapper

        similarity = self.mteb_model_meta.similarity_fn_name
        if similarity in (ScoringFunction.COSINE, ScoringFunction.DOT_PRODUCT):
            self._search = _Corpus(corpus, cosine=similarity is ScoringFunction.COSINE, num_proc=num_proc)
            return
        # other similarities: mteb's own chunked search (cast: the mixin is always part of an Encoder)
        self._search = SearchEncoderWrapper(cast("EncoderProtocol", self))
        self._search.index(
            corpus,
            task_metadata=task_metadata,
            hf_split=hf_split,
            hf_subset=hf_subset,
            encode_kwargs=dict(encode_kwargs),
            num_proc=num_proc,
            **kwargs,
        )

    def search(
        self,
        queries: Any,
        *,
        task_metadata: TaskMetadata,
        hf_split: str,
        hf_subset: str,
        top_k: int,
        encode_kwargs: Mapping[str, Any],
        top_ranked: Mapping[str, list[str]] | None = None,
        num_proc: int | None = None,
        **kwargs: Any,
    ) -> dict[str, dict[str, float]]:
        """Top-k documents per query (mteb's ``SearchProtocol.search``); call `index` first.

        Scores equal mteb's default search on the same embeddings (fp32; ties at the k-th place resolved as its
        heap does). Memory: one corpus chunk (see ``max_memory``) plus queries x top-k.
        """
        if self._search is None:
            raise ValueError("Encoder.search needs an indexed corpus: call Encoder.index first.")
        indexed, self._search = self._search, None
        if not isinstance(indexed, _Corpus):
            return indexed.search(
                queries,
                task_metadata=task_metadata,
                hf_split=hf_split,
                hf_subset=hf_subset,
                top_k=top_k,
                encode_kwargs=dict(encode_kwargs),
                top_ranked=top_ranked,
                num_proc=num_proc,
                **kwargs,
            )
        from rumteb.models.search import _topk as _search

        where = {"task_metadata": task_metadata, "hf_split": hf_split, "hf_subset": hf_subset}
        query_vectors = self._encode_rows(queries, "query", where, dict(encode_kwargs), num_proc)
        query_ids = _search.id_column(queries).to_pylist()
        ids = _search.id_column(indexed.corpus)
        # one local device scores its own vectors; with several (or Ray actors) scores are computed on the CPU,
        # where the vectors arrive
        device = self.devices[0] if self.engine == "local" and len(self.devices) == 1 else "cpu"
        if top_ranked is not None:
            positions, rows = _search.candidate_rows(ids, query_ids, top_ranked)
            rerank = _search.StreamingRerank(query_vectors, positions, rows, device, indexed.cosine)
            self._stream_corpus(indexed, rerank.add, where, dict(encode_kwargs), device)
            results: dict[str, dict[str, float]] = {}
            for qid, (values, picks) in zip(query_ids, rerank.top(top_k), strict=True):
                ranked = list(top_ranked.get(qid) or [])
                results[qid] = {ranked[i]: v for i, v in zip(picks.tolist(), values.tolist(), strict=True)}
            return results
        top = _search.StreamingTopK(query_vectors, top_k, _search.id_ranks(ids), device, indexed.cosine)
        self._stream_corpus(indexed, top.add, where, dict(encode_kwargs), device)
        values, rows = top.result()
        width = values.shape[1]
        hit_ids = ids.take(rows.ravel()).to_pylist() if rows.size else []
        scores = values.ravel().tolist()
        return {
            qid: dict(
                zip(hit_ids[q * width : (q + 1) * width], scores[q * width : (q + 1) * width], strict=True)
            )
            for q, qid in enumerate(query_ids)
        }

    def corpus_chunk_rows(self, device: str) -> int:
        """Documents per streamed corpus chunk, from ``max_memory`` (or the default budget)."""
        from rumteb.models.runtime import chunk_rows, default_budget

        if self.embed_dim is None:
            raise ValueError("corpus_chunk_rows needs the embedding dimension: encode something first.")
        return chunk_rows(
            self.max_memory or default_budget(capped=self.engine != "ray"), self.embed_dim, device
        )

    def _encode_rows(
        self, rows: Any, kind: str, where: dict[str, Any], encode_kwargs: dict[str, Any], num_proc: int | None
    ) -> np.ndarray:
        from mteb._create_dataloaders import create_dataloader
        from mteb.types import PromptType

        prompt_type = PromptType.query if kind == "query" else PromptType.document
        loader = create_dataloader(
            rows,
            task_metadata=where["task_metadata"],
            prompt_type=prompt_type,
            num_proc=num_proc,
            **encode_kwargs,
        )
        return np.asarray(self.encode(loader, prompt_type=prompt_type, **where, **encode_kwargs))

    def _stream_corpus(
        self,
        indexed: _Corpus,
        consume: Any,
        where: dict[str, Any],
        encode_kwargs: dict[str, Any],
        device: str,
    ) -> None:
        from rumteb.models.runtime import release_free_memory

        corpus = indexed.corpus
        size = self.corpus_chunk_rows(device)
        logger.info("Streaming %d documents in chunks of %d", len(corpus), size)
        self._streaming = True
        try:
            for start in range(0, len(corpus), size):
                part = corpus.select(range(start, min(len(corpus), start + size)))
                consume(self._encode_rows(part, "document", where, encode_kwargs, indexed.num_proc))
                release_free_memory()
        finally:
            self._streaming = False
