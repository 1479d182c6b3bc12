"""The ruMTEB pair classification task (similarity threshold on embedding pairs; main score max AP)."""

from __future__ import annotations

from mteb.abstasks.pair_classification import AbsTaskPairClassification

from rumteb.tasks import _citations as cite
from rumteb.tasks._defaults import RuMTEBTask, ru_metadata


class TERRa(RuMTEBTask, AbsTaskPairClassification):
    metadata = ru_metadata(
        name="TERRa",
        description="Textual Entailment Recognition for Russian (Russian SuperGLUE): does the first text entail "
        "the second?",
        dataset={"path": "mteb/TERRa", "revision": "48312c334eb916d88481dc4a41bd0d8b2fa0d576"},
        reference="https://arxiv.org/pdf/2010.15925",
        type="PairClassification",
        category="t2t",
        eval_splits=["dev"],
        main_score="max_ap",
        date=("2000-01-01", "2018-01-01"),
        domains=["News", "Web", "Written"],
        task_subtypes=[],
        license="mit",
        annotations_creators="human-annotated",
        sample_creation="found",
        bibtex_citation=cite.TERRA,
        prompt="Given a premise, retrieve a hypothesis that is entailed by the premise",
    )
