"""The models rumteb registers with mteb (``rumteb.models.MODEL_METAS``), with rumteb's loaders."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mteb.models.model_meta import ModelMeta

ROSBERTA = "ai-forever/ru-en-RoSBERTa"
ROSBERTA_REVISION = "89fb1651989adbb1cfcfdedafd7d102951ad0555"


def load_navec(model_name: str, revision: str | None = None, **kwargs: Any) -> Any:
    """mteb loader of ``rumteb/navec-avg`` (imports the optional ``baselines`` extra only when called)."""
    from rumteb.models.baselines import NavecAverage

    return NavecAverage(model_name, revision, **kwargs)


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


@functools.cache
def navec_meta() -> ModelMeta:
    from mteb.models.model_meta import ModelMeta, ScoringFunction

    return ModelMeta(
        loader=load_navec,
        name="rumteb/navec-avg",
        revision="3877f52d8b614360fe7ff4a4dff3141644557495",  # SHA-1 of natasha's navec file
        release_date=None,
        languages=["rus-Cyrl"],
        n_parameters=250_002 * 300,  # the word table it stands for; stored product-quantised in 26 MB
        memory_usage_mb=26,
        max_tokens=None,
        embed_dim=300,
        license="mit",
        open_weights=True,
        public_training_code="https://github.com/natasha/navec",
        public_training_data=None,
        framework=["NumPy"],
        reference="https://github.com/natasha/navec",
        similarity_fn_name=ScoringFunction.COSINE,
        use_instructions=False,
        training_datasets=set(),
        model_type=["dense"],
    )


def model_metas() -> list[ModelMeta]:
    """ru-en-RoSBERTa (rumteb's encoder as loader) and the navec baseline."""
    return [rosberta_meta(), navec_meta()]
