"""The three ruMTEB clustering tasks (MiniBatchKMeans on embeddings; main score V-measure)."""

from __future__ import annotations

from typing import cast

from datasets import DatasetDict
from mteb.abstasks.clustering import AbsTaskClustering

from rumteb.tasks._defaults import RuMTEBTask, ru_metadata

_SHARED = {
    "type": "Clustering",
    "category": "t2c",
    "main_score": "v_measure",
    "annotations_creators": "derived",
    "sample_creation": "found",
}
_SCIBENCH = {
    **_SHARED,
    "reference": "https://github.com/mlsa-iai-msu-lab/ru_sci_bench/",
    "date": ("1999-01-01", "2024-01-01"),
    "domains": ["Academic", "Written"],
    "task_subtypes": ["Thematic clustering"],
    "license": "not specified",
    "prompt": "Identify the category of scientific papers based on the titles and abstracts",
}


class _SciBenchClustering(RuMTEBTask, AbsTaskClustering):
    """Clusters the test split of a RuSciBench classification dataset (cut to 2,048 papers, stratified)."""

    max_document_to_embed = 2048
    max_fraction_of_documents_to_embed = None

    def dataset_transform(self, num_proc: int | None = None, **kwargs: object) -> None:
        renamed = cast(DatasetDict, self.dataset).rename_columns({"label": "labels", "text": "sentences"})
        subsampled = self.stratified_subsampling(renamed, seed=self.seed, splits=["test"], label="labels")
        self.dataset = subsampled.flatten_indices()  # same rows, faster reads


class GeoreviewClusteringP2P(RuMTEBTask, AbsTaskClustering):
    max_document_to_embed = 2000
    max_fraction_of_documents_to_embed = None
    metadata = ru_metadata(
        name="GeoreviewClusteringP2P",
        description="Yandex Maps organisation reviews; cluster reviews by the category of the organisation.",
        dataset={
            "path": "ai-forever/georeview-clustering-p2p",
            "revision": "97a313c8fc85b47f13f33e7e9a95c1ad888c7fec",
        },
        reference="https://github.com/yandex/geo-reviews-dataset-2023",
        date=("2023-01-01", "2023-07-01"),
        domains=["Reviews", "Written"],
        task_subtypes=[],
        license="mit",
        prompt="Identify the organization category based on the reviews",
        **_SHARED,
    )


class RuSciBenchGRNTIClusteringP2P(_SciBenchClustering):
    metadata = ru_metadata(
        name="RuSciBenchGRNTIClusteringP2P",
        description="Russian scientific papers (title and abstract); cluster them by GRNTI rubric.",
        dataset={
            "path": "ai-forever/ru-scibench-grnti-classification",
            "revision": "673a610d6d3dd91a547a0d57ae1b56f37ebbf6a1",
        },
        **_SCIBENCH,
    )


class RuSciBenchOECDClusteringP2P(_SciBenchClustering):
    metadata = ru_metadata(
        name="RuSciBenchOECDClusteringP2P",
        description="Russian scientific papers (title and abstract); cluster them by OECD field of science.",
        dataset={
            "path": "ai-forever/ru-scibench-oecd-classification",
            "revision": "26c88e99dcaba32bb45d0e1bfc21902337f6d471",
        },
        **_SCIBENCH,
    )
