"""The three ruMTEB semantic textual similarity tasks (main score Spearman of cosine similarity)."""

from __future__ import annotations

from typing import cast

from datasets import DatasetDict
from mteb.abstasks.sts import AbsTaskSTS

from rumteb.tasks import _citations as cite
from rumteb.tasks._defaults import RU_SUBSET, RuMTEBTask, ru_metadata

_SHARED = {
    "type": "STS",
    "category": "t2t",
    "main_score": "cosine_spearman",
    "annotations_creators": "human-annotated",
}


class RUParaPhraserSTS(RuMTEBTask, AbsTaskSTS):
    # ParaPhraser classes: -1 non-paraphrase, 0 loose paraphrase, 1 precise paraphrase.
    min_score = -1
    max_score = 1
    metadata = ru_metadata(
        name="RUParaPhraserSTS",
        description="ParaPhraser: pairs of Russian news headlines graded as precise, loose or non-paraphrases.",
        dataset={"path": "merionum/ru_paraphraser", "revision": "43265056790b8f7c59e0139acb4be0a8dad2c8f4"},
        reference="https://aclanthology.org/2020.ngt-1.6",
        date=("2009-01-01", "2019-01-01"),
        domains=["News", "Written"],
        task_subtypes=[],
        license="mit",
        sample_creation="found",
        bibtex_citation=cite.PARAPHRASER,
        **_SHARED,
    )

    def dataset_transform(self, num_proc: int | None = None, **kwargs: object) -> None:
        renamed = cast(DatasetDict, self.dataset).rename_columns(
            {"text_1": "sentence1", "text_2": "sentence2", "class": "score"}
        )
        self.dataset = renamed.map(lambda row: {"score": float(row["score"])})


class RuSTSBenchmarkSTS(RuMTEBTask, AbsTaskSTS):
    min_score = 0
    max_score = 5
    metadata = ru_metadata(
        name="RuSTSBenchmarkSTS",
        description="STS Benchmark machine-translated into Russian, translations filtered with a RuCOLA "
        "acceptability model. ruMTEB evaluates the test split only.",
        dataset={
            "path": "ai-forever/ru-stsbenchmark-sts",
            "revision": "7cf24f325c6da6195df55bef3d86b5e0616f3018",
        },
        reference="https://github.com/PhilipMay/stsb-multi-mt/",
        eval_splits=["test", "validation"],
        date=("2012-01-01", "2018-01-01"),
        domains=["News", "Social", "Web", "Written"],
        task_subtypes=[],
        license="cc-by-sa-4.0",
        sample_creation="machine-translated and verified",
        bibtex_citation=cite.RU_STSB,
        **_SHARED,
    )


class STS22(RuMTEBTask, AbsTaskSTS):
    fast_loading = True
    min_score = 1
    max_score = 4
    metadata = ru_metadata(
        name="STS22",
        description="SemEval-2022 Task 8, Russian subset: similarity of pairs of news articles.",
        dataset={
            "path": "mteb/sts22-crosslingual-sts",
            "revision": "de9d86b3b84231dc21f76c7b7af1f28e2f57f6e3",
        },
        reference="https://competitions.codalab.org/competitions/33835",
        eval_langs=RU_SUBSET,
        date=("2020-01-01", "2020-06-11"),
        domains=["News", "Written"],
        task_subtypes=[],
        license="not specified",
        sample_creation="found",
        bibtex_citation=cite.STS22,
        superseded_by="STS22.v2",
        **_SHARED,
    )
