"""rumteb's ruMTEB tasks: one small class per task on mteb's abstract tasks, one module per task type.

Task names are mteb's, so results are keyed exactly as on the public leaderboard.
"""

from __future__ import annotations

from mteb.abstasks import AbsTask

from rumteb.tasks._defaults import RuMTEBTask
from rumteb.tasks.classification import (
    GeoreviewClassification,
    HeadlineClassification,
    InappropriatenessClassification,
    KinopoiskClassification,
    MassiveIntentClassification,
    MassiveScenarioClassification,
    RuReviewsClassification,
    RuSciBenchGRNTIClassification,
    RuSciBenchOECDClassification,
)
from rumteb.tasks.clustering import (
    GeoreviewClusteringP2P,
    RuSciBenchGRNTIClusteringP2P,
    RuSciBenchOECDClusteringP2P,
)
from rumteb.tasks.multilabel_classification import CEDRClassification, SensitiveTopicsClassification
from rumteb.tasks.pair_classification import TERRa
from rumteb.tasks.reranking import MIRACLReranking, RuBQReranking
from rumteb.tasks.retrieval import (
    MIRACLRetrieval,
    MIRACLRetrievalHardNegativesV2,
    RiaNewsRetrieval,
    RiaNewsRetrievalHardNegativesV2,
    RuBQRetrieval,
)
from rumteb.tasks.sts import STS22, RUParaPhraserSTS, RuSTSBenchmarkSTS

#: Every task class rumteb defines: the 23 of ruMTEB v1 in the paper's order, then the two v1.1 replacements.
TASKS: tuple[type[AbsTask], ...] = (
    GeoreviewClassification,
    HeadlineClassification,
    InappropriatenessClassification,
    KinopoiskClassification,
    MassiveIntentClassification,
    MassiveScenarioClassification,
    RuReviewsClassification,
    RuSciBenchGRNTIClassification,
    RuSciBenchOECDClassification,
    GeoreviewClusteringP2P,
    RuSciBenchGRNTIClusteringP2P,
    RuSciBenchOECDClusteringP2P,
    CEDRClassification,
    SensitiveTopicsClassification,
    TERRa,
    MIRACLReranking,
    RuBQReranking,
    MIRACLRetrieval,
    RiaNewsRetrieval,
    RuBQRetrieval,
    RUParaPhraserSTS,
    STS22,
    RuSTSBenchmarkSTS,
    MIRACLRetrievalHardNegativesV2,
    RiaNewsRetrievalHardNegativesV2,
)

#: Task name (mteb's) -> rumteb class.
TASKS_BY_NAME: dict[str, type[AbsTask]] = {cls.metadata.name: cls for cls in TASKS}

__all__ = ["TASKS", "TASKS_BY_NAME", "RuMTEBTask", *(cls.__name__ for cls in TASKS)]
