"""Retrieval for rumteb's encoders (mteb's ``SearchProtocol``): the corpus streams through in chunks, searched
exactly on the device.

`StreamingSearch` is the object behind the ``index`` and ``search`` of `rumteb.models.encoder.Encoder` and
`rumteb.models.endpoint.EndpointEncoder`: ``index`` only keeps the corpus (`_Corpus`); ``search`` encodes the
queries, then the corpus chunk by chunk (``corpus_chunk_rows`` documents each, from the ``max_memory`` budget; kept
out of the encoder's in-run memory, as each chunk is seen once), and merges every chunk into a running top-k
(`rumteb.models.search._topk`), so memory does not grow with the corpus. Similarities other than cosine and dot
product go to mteb's own chunked search.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np

if TYPE_CHECKING:
    from mteb.abstasks.task_metadata import TaskMetadata
    from mteb.models.models_protocols import EncoderProtocol, SearchProtocol
    from mteb.types import EncodeKwargs

logger = logging.getLogger(__name__)


class _Corpus:
    """An indexed corpus waiting for `StreamingSearch.search`."""

    def __init__(self, corpus: Any, cosine: bool, num_proc: int | None) -> None:
        self.corpus = corpus
        self.cosine = cosine
        self.num_proc = num_proc


class StreamingSearch:
    """mteb's ``SearchProtocol`` for an encoder: the corpus streams through in chunks, searched exactly on
    ``device``.

    Args:
        model: The encoder that holds this search (kept as a weak reference: a strong one would keep the encoder
            and its model alive in a cycle). Its metadata's similarity is read at `index`: cosine and dot product
            stream, other similarities go to mteb's own search over it.
        encode: mteb's ``encode`` with a ``remember`` keyword, called as ``encode(model, dataloader, ...)``
            (``rumteb.models._inputs.encode_loader``): dataset rows in, embeddings out; ``remember=False`` for the
            corpus chunks, which are seen once.
        embed_dim: The embedding dimension, asked when the corpus is cut (None until known: a served model learns
            it from the first answer, and the queries come first).
        device: Where the scores are computed (where the vectors are).
        max_memory: Host memory budget of one corpus chunk, in bytes; None: `rumteb.models.runtime.default_budget`.

    Example:
        >>> search = StreamingSearch(encoder, encode_loader, embed_dim=lambda: 384)
        >>> search.index(corpus, task_metadata=meta, hf_split="test", hf_subset="default", encode_kwargs={})
        >>> search.search(queries, task_metadata=meta, hf_split="test", hf_subset="default", top_k=10,
        ...               encode_kwargs={})
    """

    def __init__(
        self,
        model: EncoderProtocol,
        encode: Callable[..., np.ndarray],
        *,
        embed_dim: Callable[[], int | None],
        device: str = "cpu",
        max_memory: int | None = None,
    ) -> None:
        self._model_ref = weakref.ref(model)
        self._encode = encode
        self._embed_dim = embed_dim
        self.device = device
        self.max_memory = max_memory
        self._indexed: _Corpus | SearchProtocol | None = None

    @property
    def _model(self) -> EncoderProtocol:
        model = self._model_ref()
        if model is None:
            raise ReferenceError("The encoder that held this search is gone.")
        return model

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

        # read now: the encoder's metadata may be replaced after construction
        similarity = self._model.mteb_model_meta.similarity_fn_name
        if similarity in (ScoringFunction.COSINE, ScoringFunction.DOT_PRODUCT):
            self._indexed = _Corpus(corpus, cosine=similarity is ScoringFunction.COSINE, num_proc=num_proc)
            return
        # other similarities: mteb's own chunked search
        self._indexed = fallback = SearchEncoderWrapper(self._model)
        fallback.index(
            corpus,
            task_metadata=task_metadata,
            hf_split=hf_split,
            hf_subset=hf_subset,
            encode_kwargs=cast("EncodeKwargs", dict(encode_kwargs)),
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
        if self._indexed is None:
            owner = type(self._model).__name__
            raise ValueError(f"{owner}.search needs an indexed corpus: call {owner}.index first.")
        indexed, self._indexed = self._indexed, None
        if not isinstance(indexed, _Corpus):
            return indexed.search(
                queries,
                task_metadata=task_metadata,
                hf_split=hf_split,
                hf_subset=hf_subset,
                top_k=top_k,
                encode_kwargs=cast("EncodeKwargs", dict(encode_kwargs)),
                top_ranked=top_ranked,
                num_proc=num_proc,
                **kwargs,
            )
        from rumteb.models.search import _topk as _search

        where = {"task_metadata": task_metadata, "hf_split": hf_split, "hf_subset": hf_subset}
        query_vectors = self._encode_rows(queries, "query", where, dict(encode_kwargs), num_proc)
        query_ids = _search.id_column(queries).to_pylist()
        ids = _search.id_column(indexed.corpus)
        device = self.device  # where the vectors arrive: one local device scores its own, otherwise the CPU
        if top_ranked is not None:
            positions, rows = _search.candidate_rows(ids, query_ids, top_ranked)
            rerank = _search.StreamingRerank(query_vectors, positions, rows, device, indexed.cosine)
            self._stream_corpus(indexed, rerank.add, where, dict(encode_kwargs))
            results: dict[str, dict[str, float]] = {}
            for qid, (values, picks) in zip(query_ids, rerank.top(top_k), strict=True):
                ranked = list(top_ranked.get(qid) or [])
                results[qid] = {ranked[i]: v for i, v in zip(picks.tolist(), values.tolist(), strict=True)}
            return results
        top = _search.StreamingTopK(query_vectors, top_k, _search.id_ranks(ids), device, indexed.cosine)
        self._stream_corpus(indexed, top.add, where, dict(encode_kwargs))
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

    def corpus_chunk_rows(self, device: str | None = None) -> int:
        """Documents per streamed corpus chunk, from ``max_memory`` (or the default budget), for scoring on
        ``device`` (default: the search's)."""
        from rumteb.models.runtime import chunk_rows, default_budget

        dim = self._embed_dim()
        if dim is None:
            raise ValueError("corpus_chunk_rows needs the embedding dimension: encode something first.")
        budget = self.max_memory or default_budget()
        return chunk_rows(budget, dim, device or self.device)

    def _encode_rows(
        self, rows: Any, kind: str, where: dict[str, Any], encode_kwargs: dict[str, Any], num_proc: int | None
    ) -> np.ndarray:
        from mteb._create_dataloaders import create_dataloader
        from mteb.types import PromptType

        query = kind == "query"
        prompt_type = PromptType.query if query else PromptType.document
        loader = create_dataloader(
            rows,
            task_metadata=where["task_metadata"],
            prompt_type=prompt_type,
            num_proc=num_proc,
            **encode_kwargs,
        )
        # a corpus chunk is seen once: keep it out of the encoder's in-run memory (the queries stay)
        return np.asarray(
            self._encode(
                self._model, loader, prompt_type=prompt_type, remember=query, **where, **encode_kwargs
            )
        )

    def _stream_corpus(
        self,
        indexed: _Corpus,
        consume: Callable[[np.ndarray], object],
        where: dict[str, Any],
        encode_kwargs: dict[str, Any],
    ) -> None:
        from rumteb.models.runtime import release_free_memory

        corpus = indexed.corpus
        size = self.corpus_chunk_rows(self.device)
        logger.info("Streaming %d documents in chunks of %d", len(corpus), size)
        for start in range(0, len(corpus), size):
            part = corpus.select(range(start, min(len(corpus), start + size)))
            consume(self._encode_rows(part, "document", where, encode_kwargs, indexed.num_proc))
            release_free_memory()
