"""The nine ruMTEB classification tasks (logistic regression on embeddings; main score accuracy)."""

from __future__ import annotations

from mteb.abstasks.classification import AbsTaskClassification

from rumteb.tasks import _citations as cite
from rumteb.tasks._defaults import RU_SUBSET, RuMTEBTask, ru_metadata
from rumteb.tasks._fast_labels import FastLabelsClassification

_SHARED = {"type": "Classification", "category": "t2c", "main_score": "accuracy"}
_SCIBENCH = {
    **_SHARED,
    "reference": "https://github.com/mlsa-iai-msu-lab/ru_sci_bench/",
    "date": ("1999-01-01", "2024-01-01"),
    "domains": ["Academic", "Written"],
    "task_subtypes": ["Topic classification"],
    "license": "not specified",
    "annotations_creators": "derived",
    "sample_creation": "found",
    "prompt": "Classify the category of scientific papers based on the titles and abstracts",
}
_MASSIVE = {
    **_SHARED,
    "reference": "https://arxiv.org/abs/2204.08582",
    "eval_splits": ["validation", "test"],
    "eval_langs": RU_SUBSET,
    "date": ("2022-01-01", "2022-04-22"),
    "domains": ["Spoken"],
    "task_subtypes": [],
    "license": "apache-2.0",
    "annotations_creators": "human-annotated",
    "sample_creation": "human-translated and localized",
    "bibtex_citation": cite.MASSIVE,
}


class _Subsampled2048(RuMTEBTask, FastLabelsClassification, AbsTaskClassification):
    """A classification task whose test split is cut to 2,048 rows, stratified by label, with the task seed."""

    def dataset_transform(self, num_proc: int | None = None, **kwargs: object) -> None:
        subsampled = self.stratified_subsampling(
            self.dataset, seed=self.seed, n_samples=2048, splits=["test"]
        )
        # Same rows; flattening the index mapping makes mteb's row-by-row label reads ~2x faster.
        self.dataset = subsampled.flatten_indices()


class GeoreviewClassification(RuMTEBTask, FastLabelsClassification, AbsTaskClassification):
    metadata = ru_metadata(
        name="GeoreviewClassification",
        description="Yandex Maps organisation reviews; predict the 1-5 star rating from the review text.",
        dataset={
            "path": "mteb/GeoreviewClassification",
            "revision": "fb29d6137c54550329411023aee45a8ff29f0c62",
        },
        reference="https://github.com/yandex/geo-reviews-dataset-2023",
        date=("2023-01-01", "2023-08-01"),
        domains=["Reviews", "Written"],
        task_subtypes=["Sentiment/Hate speech"],
        license="mit",
        annotations_creators="derived",
        sample_creation="found",
        prompt="Classify the organization rating based on the reviews",
        superseded_by="GeoreviewClassification.v2",
        **_SHARED,
    )


class HeadlineClassification(_Subsampled2048):
    metadata = ru_metadata(
        name="HeadlineClassification",
        description="News headlines from ParaPhraser Plus; predict the rubric (topic) of each headline.",
        dataset={
            "path": "ai-forever/headline-classification",
            "revision": "2fe05ee6b5832cda29f2ef7aaad7b7fe6a3609eb",
        },
        reference="https://aclanthology.org/2020.ngt-1.6/",
        date=("2009-01-01", "2020-01-01"),
        domains=["News", "Written"],
        task_subtypes=["Topic classification"],
        license="mit",
        annotations_creators="derived",
        sample_creation="found",
        bibtex_citation=cite.HEADLINE,
        prompt="Classify the topic or theme of the given news headline",
        superseded_by="HeadlineClassification.v2",
        **_SHARED,
    )


class InappropriatenessClassification(_Subsampled2048):
    metadata = ru_metadata(
        name="InappropriatenessClassification",
        description="Messages on sensitive topics; decide whether a message is inappropriate (could harm a "
        "company's reputation). Binary.",
        dataset={
            "path": "ai-forever/inappropriateness-classification",
            "revision": "601651fdc45ef243751676e62dd7a19f491c0285",
        },
        reference="https://aclanthology.org/2021.bsnlp-1.4",
        date=("2006-01-01", "2021-04-01"),
        domains=["Web", "Social", "Written"],
        task_subtypes=["Sentiment/Hate speech"],
        license="cc-by-nc-sa-4.0",
        annotations_creators="human-annotated",
        sample_creation="found",
        bibtex_citation=cite.INAPPROPRIATENESS,
        prompt="Classify the given message as either sensitive topic or not",
        superseded_by="InappropriatenessClassification.v2",
        **_SHARED,
    )


class KinopoiskClassification(RuMTEBTask, FastLabelsClassification, AbsTaskClassification):
    metadata = ru_metadata(
        name="KinopoiskClassification",
        description="Kinopoisk film reviews; predict the sentiment (negative, neutral, positive).",
        dataset={
            "path": "ai-forever/kinopoisk-sentiment-classification",
            "revision": "5911f26666ac11af46cb9c6849d0dc80a378af24",
        },
        reference="https://www.dialog-21.ru/media/1226/blinovpd.pdf",
        date=("2004-07-01", "2012-12-01"),
        domains=["Reviews", "Written"],
        task_subtypes=["Sentiment/Hate speech"],
        license="not specified",
        annotations_creators="derived",
        sample_creation="found",
        bibtex_citation=cite.KINOPOISK,
        prompt="Classify the sentiment expressed in the given movie review text",
        **_SHARED,
    )


class MassiveIntentClassification(RuMTEBTask, FastLabelsClassification, AbsTaskClassification):
    fast_loading = True
    metadata = ru_metadata(
        name="MassiveIntentClassification",
        description="MASSIVE virtual-assistant utterances, Russian subset; predict one of 60 intents.",
        dataset={
            "path": "mteb/amazon_massive_intent",
            "revision": "4672e20407010da34463acc759c162ca9734bca6",
        },
        prompt="Given a user utterance as query, find the user intents",
        **_MASSIVE,
    )


class MassiveScenarioClassification(RuMTEBTask, FastLabelsClassification, AbsTaskClassification):
    fast_loading = True
    metadata = ru_metadata(
        name="MassiveScenarioClassification",
        description="MASSIVE virtual-assistant utterances, Russian subset; predict one of 18 scenarios.",
        dataset={
            "path": "mteb/amazon_massive_scenario",
            "revision": "fad2c6e8459f9e1c45d9315f4953d921437d70f8",
        },
        prompt="Given a user utterance as query, find the user scenarios",
        **_MASSIVE,
    )


class RuReviewsClassification(_Subsampled2048):
    metadata = ru_metadata(
        name="RuReviewsClassification",
        description="Women's clothing product reviews (RuReviews); predict negative, neutral or positive.",
        dataset={
            "path": "ai-forever/ru-reviews-classification",
            "revision": "f6d2c31f4dc6b88f468552750bfec05b4b41b05a",
        },
        reference="https://github.com/sismetanin/rureviews",
        date=("2000-01-01", "2020-01-01"),
        domains=["Reviews", "Written"],
        task_subtypes=["Sentiment/Hate speech"],
        license="apache-2.0",
        annotations_creators="derived",
        sample_creation="found",
        bibtex_citation=cite.RUREVIEWS,
        prompt="Classify product reviews into positive, negative or neutral sentiment",
        superseded_by="RuReviewsClassification.v2",
        **_SHARED,
    )


class RuSciBenchGRNTIClassification(_Subsampled2048):
    metadata = ru_metadata(
        name="RuSciBenchGRNTIClassification",
        description="Russian scientific papers (title and abstract) from eLibrary; predict the GRNTI rubric.",
        dataset={
            "path": "ai-forever/ru-scibench-grnti-classification",
            "revision": "673a610d6d3dd91a547a0d57ae1b56f37ebbf6a1",
        },
        superseded_by="RuSciBenchGRNTIClassification.v2",
        **_SCIBENCH,
    )


class RuSciBenchOECDClassification(_Subsampled2048):
    metadata = ru_metadata(
        name="RuSciBenchOECDClassification",
        description="Russian scientific papers (title and abstract) from eLibrary; predict the OECD field of science.",
        dataset={
            "path": "ai-forever/ru-scibench-oecd-classification",
            "revision": "26c88e99dcaba32bb45d0e1bfc21902337f6d471",
        },
        superseded_by="RuSciBenchOECDClassification.v2",
        **_SCIBENCH,
    )
