"""rumteb's models: a fast mteb encoder, baselines, and the model metadata rumteb registers with mteb.

Imports are lazy: ``import rumteb.models`` loads neither torch nor transformers.

Example:
    >>> from rumteb.models import Encoder
    >>> encoder = Encoder("ai-forever/ru-en-RoSBERTa", precision="auto")
    >>> import rumteb.models
    >>> [m.name for m in rumteb.models.MODEL_METAS]
    ['ai-forever/ru-en-RoSBERTa', 'rumteb/navec-avg']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mteb.models.model_meta import ModelMeta

    from rumteb.models.encoder import Encoder
    from rumteb.models.endpoint import EndpointEncoder

__all__ = ["MODEL_METAS", "Encoder", "EndpointEncoder", "get_model_meta"]


def get_model_meta(name: str) -> ModelMeta:
    """rumteb's metadata for a model it registers (its loader is rumteb's encoder).

    Raises:
        LookupError: rumteb registers no model of that name.

    Example:
        >>> get_model_meta("ai-forever/ru-en-RoSBERTa").load_model(device="cpu")
    """
    from rumteb.models._metas import model_metas

    metas = {str(meta.name): meta for meta in model_metas()}
    if name not in metas:
        raise LookupError(f"rumteb registers no model named {name!r}. Known: {', '.join(sorted(metas))}.")
    return metas[name]


def __getattr__(name: str) -> Any:
    if name == "Encoder":
        from rumteb.models.encoder import Encoder

        return Encoder
    if name == "EndpointEncoder":
        from rumteb.models.endpoint import EndpointEncoder

        return EndpointEncoder
    if name == "MODEL_METAS":
        from rumteb.models._metas import model_metas

        return model_metas()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
