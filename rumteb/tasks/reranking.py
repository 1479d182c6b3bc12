"""The two ruMTEB reranking tasks: each query is scored only against its own candidate list (``top_ranked``)."""

from __future__ import annotations

from mteb.abstasks.retrieval import AbsTaskRetrieval

from rumteb.tasks import _citations as cite
from rumteb.tasks._defaults import RU_SUBSET, RuMTEBTask, ru_metadata

_SHARED = {"type": "Reranking", "category": "t2t", "license": "cc-by-sa-4.0", "sample_creation": "created"}


class MIRACLReranking(RuMTEBTask, AbsTaskRetrieval):
    metadata = ru_metadata(
        name="MIRACLReranking",
        description="MIRACL, Russian subset, as reranking: order each question's candidate Wikipedia passages.",
        dataset={"path": "mteb/MIRACLReranking", "revision": "d11a14c74e8bd448cedab0c1d9a720040535f228"},
        reference="https://project-miracl.github.io/",
        eval_splits=["dev"],
        eval_langs=RU_SUBSET,
        main_score="ndcg_at_10",
        date=("2022-06-01", "2023-01-30"),
        domains=["Encyclopaedic", "Written"],
        task_subtypes=[],
        annotations_creators="expert-annotated",
        bibtex_citation=cite.MIRACL_RERANKING,
        prompt={"query": "Given a question, retrieve Wikipedia passages that answer the question"},
        adapted_from=["MIRACLRetrieval"],
        **_SHARED,
    )


class RuBQReranking(RuMTEBTask, AbsTaskRetrieval):
    metadata = ru_metadata(
        name="RuBQReranking",
        description="RuBQ 2.0 as reranking: order each question's candidate Wikipedia paragraphs.",
        dataset={"path": "mteb/RuBQReranking", "revision": "e8233e2234f8b24ab47f203b69d1161c3c0bc5a1"},
        reference="https://openreview.net/pdf?id=P5UQFFoQ4PJ",
        main_score="map_at_1000",
        date=("2001-01-01", "2021-01-01"),
        domains=["Encyclopaedic", "Written"],
        task_subtypes=[],
        annotations_creators="human-annotated",
        bibtex_citation=cite.RUBQ,
        prompt={"query": "Given a question, retrieve Wikipedia passages that answer the question."},
        **_SHARED,
    )
