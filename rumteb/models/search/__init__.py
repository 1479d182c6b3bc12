"""Retrieval at corpus scale: the corpus streams through in chunks, each scored exactly against every query on the
device and merged into a running top-k (or each query's candidate list for reranking).

Lazy: importing the package loads neither torch nor mteb.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rumteb._util.lazy import lazy_getattr

if TYPE_CHECKING:
    from rumteb.models.search._retrieval import StreamingSearch
    from rumteb.models.search._topk import StreamingRerank, StreamingTopK, candidate_rows, id_column, id_ranks

_EXPORTS = {
    "StreamingSearch": "_retrieval",
    "StreamingRerank": "_topk",
    "StreamingTopK": "_topk",
    "candidate_rows": "_topk",
    "id_column": "_topk",
    "id_ranks": "_topk",
}
__all__ = [
    "StreamingRerank",
    "StreamingSearch",
    "StreamingTopK",
    "candidate_rows",
    "id_column",
    "id_ranks",
]
__getattr__ = lazy_getattr(__name__, _EXPORTS)
