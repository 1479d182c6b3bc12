"""Embeddings kept so that no input is encoded twice: content keys, the in-run memory and the on-disk store."""

from __future__ import annotations

from rumteb.models.cache._store import DiskStore, EmbeddingStore, content_keys, namespace_id

__all__ = ["DiskStore", "EmbeddingStore", "content_keys", "namespace_id"]
