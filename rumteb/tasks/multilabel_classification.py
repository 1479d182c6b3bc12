"""The two ruMTEB multilabel classification tasks (kNN on embeddings; main score exact-match accuracy)."""

from __future__ import annotations

from mteb.abstasks.multilabel_classification import AbsTaskMultilabelClassification

from rumteb.tasks import _citations as cite
from rumteb.tasks._defaults import RuMTEBTask, ru_metadata
from rumteb.tasks._fast_labels import FastLabelsMultilabel

_SHARED = {
    "type": "MultilabelClassification",
    "category": "t2c",
    "main_score": "accuracy",
    "task_subtypes": ["Sentiment/Hate speech"],
    "annotations_creators": "human-annotated",
    "sample_creation": "found",
}


class CEDRClassification(RuMTEBTask, FastLabelsMultilabel, AbsTaskMultilabelClassification):
    metadata = ru_metadata(
        name="CEDRClassification",
        description="CEDR: sentences from blogs, news and tweets labelled with the emotions they express "
        "(joy, sadness, surprise, fear, anger; none or several per sentence).",
        dataset={"path": "mteb/CEDRClassification", "revision": "d872ceae33d049f0ef50e8abb9229b569ebfcf7d"},
        reference="https://www.sciencedirect.com/science/article/pii/S1877050921013247",
        date=("1999-01-01", "2021-09-01"),
        domains=["Web", "Social", "Blog", "Written"],
        license="apache-2.0",
        bibtex_citation=cite.CEDR,
        prompt="Given a comment as query, find expressed emotions (joy, sadness, surprise, fear, and anger)",
        **_SHARED,
    )


class SensitiveTopicsClassification(RuMTEBTask, FastLabelsMultilabel, AbsTaskMultilabelClassification):
    metadata = ru_metadata(
        name="SensitiveTopicsClassification",
        description="Messages from Russian forums and social media labelled with the sensitive topics they touch "
        "(drugs, politics, religion and others; several per message).",
        dataset={
            "path": "ai-forever/sensitive-topics-classification",
            "revision": "416b34a802308eac30e4192afc0ff99bb8dcc7f2",
        },
        reference="https://aclanthology.org/2021.bsnlp-1.4",
        date=("2006-01-01", "2021-04-01"),
        domains=["Web", "Social", "Written"],
        license="cc-by-nc-sa-4.0",
        bibtex_citation=cite.INAPPROPRIATENESS,
        prompt="Given a sentence as query, find sensitive topics",
        **_SHARED,
    )
