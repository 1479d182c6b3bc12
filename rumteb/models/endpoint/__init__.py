"""Served models: an mteb encoder over any OpenAI-compatible ``/v1/embeddings`` server (vLLM, TEI, Infinity).

Lazy: importing the package loads neither httpx nor mteb.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rumteb._util.lazy import lazy_getattr

if TYPE_CHECKING:
    from rumteb.models.endpoint._client import EndpointError, PartialEmbeddings, plan_requests
    from rumteb.models.endpoint._encoder import NO_REVISION, EndpointEncoder, served_model

_EXPORTS = {
    "EndpointError": "_client",
    "PartialEmbeddings": "_client",
    "plan_requests": "_client",
    "NO_REVISION": "_encoder",
    "EndpointEncoder": "_encoder",
    "served_model": "_encoder",
}
__all__ = [
    "NO_REVISION",
    "EndpointEncoder",
    "EndpointError",
    "PartialEmbeddings",
    "plan_requests",
    "served_model",
]
__getattr__ = lazy_getattr(__name__, _EXPORTS)
