"""The models rumteb registers with mteb (``rumteb.models.MODEL_METAS``), with rumteb's loaders."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mteb.models.model_meta import ModelMeta

ROSBERTA = "ai-forever/ru-en-RoSBERTa"
ROSBERTA_REVISION = "89fb1651989adbb1cfcfdedafd7d102951ad0555"


@functools.cache
def rosberta_meta() -> ModelMeta:
    """mteb's own metadata and prompts of ru-en-RoSBERTa, at the pinned revision, loaded by rumteb's encoder."""
    import mteb

    from rumteb.models.encoder import Encoder
    from rumteb.models.prompts import rosberta_prompts

    builtin = mteb.get_model_meta(ROSBERTA)
    prompts = rosberta_prompts()
    return builtin.model_copy(
        update={"loader": Encoder, "loader_kwargs": {"prompts": prompts}, "revision": ROSBERTA_REVISION}
    )


def model_metas() -> list[ModelMeta]:
    """ru-en-RoSBERTa (rumteb's encoder as loader) and the navec baseline."""
    from rumteb.models.baselines import navec_meta

    return [rosberta_meta(), navec_meta()]
