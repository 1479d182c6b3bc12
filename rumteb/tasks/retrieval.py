"""The ruMTEB retrieval tasks (exact search over the corpus; main score nDCG@10).

v1 (the paper) has MIRACLRetrieval, RiaNewsRetrieval and RuBQRetrieval; v1.1 replaces the first two with their
hard-negative corpora (``*HardNegatives.v2``).
"""

from __future__ import annotations

from mteb.abstasks.retrieval import AbsTaskRetrieval

from rumteb.tasks import _citations as cite
from rumteb.tasks._defaults import RU_SUBSET, RuMTEBTask, ru_metadata

_SHARED = {"type": "Retrieval", "category": "t2t", "main_score": "ndcg_at_10"}
_WIKI_QUESTION = {"query": "Given a question, retrieve Wikipedia passages that answer the question"}
_MIRACL = {
    **_SHARED,
    "reference": "http://miracl.ai",
    "eval_splits": ["dev"],
    "eval_langs": RU_SUBSET,
    "date": ("2022-06-01", "2023-01-30"),
    "domains": ["Encyclopaedic", "Written"],
    "task_subtypes": [],
    "license": "cc-by-sa-4.0",
    "annotations_creators": "expert-annotated",
    "sample_creation": "created",
    "bibtex_citation": cite.MIRACL,
    "prompt": _WIKI_QUESTION,
}
_RIA_NEWS = {
    **_SHARED,
    "reference": "https://arxiv.org/abs/1901.07786",
    "date": ("2010-01-01", "2014-12-31"),
    "domains": ["News", "Written"],
    "task_subtypes": ["Article retrieval"],
    "license": "cc-by-nc-nd-4.0",
    "annotations_creators": "derived",
    "sample_creation": "found",
    "bibtex_citation": cite.RIA_NEWS,
    "prompt": {"query": "Given a news title, retrieve relevant news article"},
}
_HARD_NEGATIVES = (
    " The corpus holds, per query, the union of the top 250 documents of BM25, multilingual-e5-large and "
    "e5-mistral-instruct (plus the relevant ones); v2 adds a task-specific query prompt."
)


class MIRACLRetrieval(RuMTEBTask, AbsTaskRetrieval):
    metadata = ru_metadata(
        name="MIRACLRetrieval",
        description="MIRACL, Russian subset: questions written by native speakers, answered by passages of the "
        "Russian Wikipedia.",
        dataset={"path": "mteb/MIRACLRetrieval", "revision": "9c09abc13478308c27598f350e31d8f06b9b5481"},
        **_MIRACL,
    )


class MIRACLRetrievalHardNegativesV2(RuMTEBTask, AbsTaskRetrieval):
    metadata = ru_metadata(
        name="MIRACLRetrievalHardNegatives.v2",
        description="MIRACL, Russian subset, on a hard-negative corpus." + _HARD_NEGATIVES,
        dataset={
            "path": "mteb/MIRACLRetrievalHardNegatives",
            "revision": "d7d94fa4b946cec4a27c84653aa0cf6b33f74a3c",
        },
        adapted_from=["MIRACLRetrieval"],
        **_MIRACL,
    )


class RiaNewsRetrieval(RuMTEBTask, AbsTaskRetrieval):
    ignore_identical_ids = True
    metadata = ru_metadata(
        name="RiaNewsRetrieval",
        description="Rossiya Segodnya (RIA Novosti) news: retrieve the article that a headline belongs to.",
        dataset={
            "path": "ai-forever/ria-news-retrieval",
            "revision": "82374b0bbacda6114f39ff9c5b925fa1512ca5d7",
        },
        **_RIA_NEWS,
    )


class RiaNewsRetrievalHardNegativesV2(RuMTEBTask, AbsTaskRetrieval):
    ignore_identical_ids = True
    metadata = ru_metadata(
        name="RiaNewsRetrievalHardNegatives.v2",
        description="RiaNewsRetrieval on a hard-negative corpus." + _HARD_NEGATIVES,
        dataset={
            "path": "mteb/RiaNewsRetrieval_test_top_250_only_w_correct-v2",
            "revision": "d42860a6c15f0a2c4485bda10c6e5b641fdfe479",
        },
        adapted_from=["RiaNewsRetrieval"],
        **_RIA_NEWS,
    )


class RuBQRetrieval(RuMTEBTask, AbsTaskRetrieval):
    ignore_identical_ids = True
    metadata = ru_metadata(
        name="RuBQRetrieval",
        description="RuBQ 2.0: Russian questions over Wikipedia; retrieve the paragraphs that answer them.",
        dataset={"path": "ai-forever/rubq-retrieval", "revision": "e19b6ffa60b3bc248e0b41f4cc37c26a55c2a67b"},
        reference="https://openreview.net/pdf?id=P5UQFFoQ4PJ",
        date=("2001-01-01", "2021-01-01"),
        domains=["Encyclopaedic", "Written"],
        task_subtypes=["Question answering"],
        license="cc-by-sa-4.0",
        annotations_creators="human-annotated",
        sample_creation="created",
        bibtex_citation=cite.RUBQ,
        prompt=_WIKI_QUESTION,
        **_SHARED,
    )
