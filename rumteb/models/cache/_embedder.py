"""Texts to embeddings, each distinct input embedded once: `CachedEmbedder`, shared by rumteb's local encoder and
its endpoint encoder, each of which hands it a function that embeds a list of new, distinct inputs.

A call keys every text by content (`content_keys`: namespace, prompt, text), looks the distinct keys up in the
`EmbeddingStore` (memory, then ``cache_dir``), embeds only the missing ones and stores them. When the embedding
function stops half-way (`IncompleteEmbeddings`: a server that went away), what it did embed is stored before the
cause is raised, so a retry or the next run does not embed it again. The dimension may be unknown until the first
answer (a served model): the disk cache is attached once it is known, or read from the cache folder's
``namespace.json``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rumteb.models.cache._store import EmbeddingStore, content_keys

logger = logging.getLogger(__name__)


class EmbedFunction(Protocol):
    """Embeds new, distinct inputs (prompt already prepended); one float32 row each, in order.

    ``keys`` are the inputs' content keys (a stable order for ties, independent of the input order); ``prompt``
    is the prompt the inputs start with (None: none).
    """

    def __call__(
        self, inputs: list[str], keys: list[bytes], prompt: str | None, show_progress_bar: bool
    ) -> np.ndarray: ...


class IncompleteEmbeddings(Exception):
    """An `EmbedFunction` stopped early: ``rows`` (positions in its inputs) got ``vectors``; ``cause`` is why.

    `CachedEmbedder` stores what came back, then raises ``cause``.
    """

    def __init__(self, rows: Sequence[int], vectors: np.ndarray, cause: BaseException) -> None:
        super().__init__(f"{len(rows)} texts embedded before: {cause}")
        self.rows = list(rows)
        self.vectors = vectors
        self.cause = cause


class CachedEmbedder:
    """Embeddings of texts in input order, each distinct (namespace, prompt, text) embedded once.

    Args:
        embed: Embeds the new, distinct inputs of a call.
        namespace: The settings that decide the embeddings (`namespace_id`); part of every key.
        store: Memory and, once attached, disk.
        dim: The embedding dimension; None: learnt from ``folder``'s ``namespace.json`` or the first answer.
        folder: The cache folder of ``namespace`` (``<cache_dir>/<namespace>``); None: no disk cache.
        settings: Written to ``folder``'s ``namespace.json`` with the dimension.
        on_dim: Called with each answer's dimension and the known one (None before the first) before anything is
            stored: may raise its own error for a dimension that changed (a served model swapped behind a name).
        owner: The encoder class, for error messages.

    Example:
        >>> embedder = CachedEmbedder(embed, namespace_id({"model": "m"}), EmbeddingStore(), dim=384)
        >>> embedder.embed(["мама мыла раму", "мама мыла раму"]).shape  # embedded once
        (2, 384)
    """

    def __init__(
        self,
        embed: EmbedFunction,
        namespace: str,
        store: EmbeddingStore,
        *,
        dim: int | None = None,
        folder: Path | None = None,
        settings: Mapping[str, object] | None = None,
        on_dim: Callable[[int, int | None], None] | None = None,
        owner: str = "Encoder",
    ) -> None:
        self._embed = embed
        self.namespace = namespace
        self.store = store
        self.folder = folder
        self._settings = dict(settings or {})
        self._on_dim = on_dim
        self._owner = owner
        self.dim: int | None = None
        if dim is not None:
            self.accept_dim(int(dim))
        elif folder is not None and (folder / "namespace.json").is_file():
            self.accept_dim(int(json.loads((folder / "namespace.json").read_text(encoding="utf-8"))["dim"]))

    def accept_dim(self, dim: int) -> None:
        """Record the embedding dimension (attaching the disk cache the first time); a different one is an error.

        Raises:
            RuntimeError: ``dim`` differs from the known dimension (unless ``on_dim`` raised first).
        """
        if self._on_dim is not None:
            self._on_dim(dim, self.dim)
        if self.dim is not None and dim != self.dim:
            raise RuntimeError(f"{self._owner} produced {dim}-dimensional embeddings, earlier {self.dim}.")
        if self.dim is None:
            self.dim = dim
            if self.folder is not None:
                self.store.attach_disk(self.folder, self._settings, dim)

    def embed(
        self,
        texts: Sequence[str],
        *,
        prompt: str | None = None,
        show_progress_bar: bool = False,
        remember: bool = True,
    ) -> np.ndarray:
        """Embeddings of ``texts`` (float32, one row per text, in input order), with ``prompt`` prepended.

        ``remember=False`` keeps new embeddings out of the in-run memory (they still go to the disk cache): for
        inputs seen once, such as a streamed retrieval corpus.

        Raises:
            TypeError: ``texts`` is not a list of strings.
        """
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError(f"The 'texts' parameter of {self._owner}.encode_texts must be a list of strings.")
        prompt = prompt or None
        keys = content_keys(self.namespace, prompt, texts)
        row: dict[bytes, int] = {}  # key -> its row among the distinct keys
        first: list[int] = []  # the position in texts of each distinct key
        for position, key in enumerate(keys):
            if key not in row:
                row[key] = len(first)
                first.append(position)
        unique = list(row)
        cached = self.store.get(unique, remember=remember)
        todo = [j for j, vector in enumerate(cached) if vector is None]
        fresh = None
        if todo:
            new_keys = [unique[j] for j in todo]
            inputs = [(prompt or "") + texts[first[j]] for j in todo]
            fresh = self._embed_new(inputs, new_keys, prompt, show_progress_bar, remember)
            if len(todo) == len(keys):  # all new and distinct, in input order: no copy (large corpus chunks)
                return fresh
        if not keys:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        assert self.dim is not None  # set by an answer, the cache folder or the owner
        vectors = np.zeros((len(unique), self.dim), dtype=np.float32)
        for j, vector in enumerate(cached):
            if vector is not None:
                vectors[j] = vector
        if fresh is not None:
            vectors[todo] = fresh
        return vectors[[row[key] for key in keys]]

    def _embed_new(
        self,
        inputs: list[str],
        keys: list[bytes],
        prompt: str | None,
        show_progress_bar: bool,
        remember: bool,
    ) -> np.ndarray:
        try:
            fresh = self._embed(inputs, keys, prompt, show_progress_bar)
        except IncompleteEmbeddings as stopped:
            self._keep_partial(keys, stopped, remember)
            raise stopped.cause from None
        self.accept_dim(int(fresh.shape[1]))
        self.store.put(keys, fresh, remember=remember)
        return fresh

    def _keep_partial(self, keys: list[bytes], stopped: IncompleteEmbeddings, remember: bool) -> None:
        """Store what a failed call got back (in memory and on disk), so that a retry in this process or the next
        run does not embed it again."""
        if not stopped.rows:
            return
        self.accept_dim(int(stopped.vectors.shape[1]))
        self.store.put([keys[i] for i in stopped.rows], stopped.vectors, remember=remember)
        where = f" (kept in {self.folder})" if self.store.disk is not None else ""
        logger.warning(
            "%d of %d texts were embedded before the call failed%s", len(stopped.rows), len(keys), where
        )
