"""Embeddings kept so that no input is encoded twice: content keys, the in-run memory and the on-disk store, and
`CachedEmbedder`, which puts them in front of any embedding function (rumteb's encoder, a served model)."""

from __future__ import annotations

from rumteb.models.cache._embedder import CachedEmbedder, EmbedFunction, IncompleteEmbeddings
from rumteb.models.cache._store import DiskStore, EmbeddingStore, content_keys, namespace_id

__all__ = [
    "CachedEmbedder",
    "DiskStore",
    "EmbedFunction",
    "EmbeddingStore",
    "IncompleteEmbeddings",
    "content_keys",
    "namespace_id",
]
