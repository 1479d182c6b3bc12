"""rumteb's models: a fast mteb encoder, baselines, and the model metadata rumteb registers with mteb.

How a model runs is one frozen settings object, checked once (`EncoderSettings` for rumteb's encoder,
`EndpointSettings` for a served model), with the choices as str enums (`Precision`, `Engine`, `Pooling`,
`EncoderChoice`) that the command line offers as its choices.

Imports are lazy: ``import rumteb.models`` loads neither torch nor transformers.

Example:
    >>> from rumteb.models import Encoder
    >>> encoder = Encoder("ai-forever/ru-en-RoSBERTa", precision="auto")
    >>> import rumteb.models
    >>> [m.name for m in rumteb.models.MODEL_METAS]
    ['ai-forever/ru-en-RoSBERTa', 'rumteb/navec-avg']
    >>> from rumteb.models import EncoderSettings
    >>> Encoder.from_settings("ai-forever/ru-en-RoSBERTa", EncoderSettings(device="cpu", precision="fp32"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mteb.models.model_meta import ModelMeta

    from rumteb.models.encoder import Encoder
    from rumteb.models.endpoint import EndpointEncoder
    from rumteb.models.settings import (
        EncoderChoice,
        EncoderSettings,
        EndpointSettings,
        Engine,
        Pooling,
        Precision,
    )

__all__ = [
    "MODEL_METAS",
    "Encoder",
    "EncoderChoice",
    "EncoderSettings",
    "EndpointEncoder",
    "EndpointSettings",
    "Engine",
    "Pooling",
    "Precision",
    "get_model_meta",
]
_SETTINGS = ("EncoderChoice", "EncoderSettings", "EndpointSettings", "Engine", "Pooling", "Precision")


def get_model_meta(name: str) -> ModelMeta:
    """rumteb's metadata for a model it registers (its loader is rumteb's encoder).

    Raises:
        UnknownNameError: rumteb registers no model of that name (a LookupError).

    Example:
        >>> get_model_meta("ai-forever/ru-en-RoSBERTa").load_model(device="cpu")
    """
    from rumteb._util.lookup import unknown_name_error
    from rumteb.models._metas import model_metas

    metas = {str(meta.name): meta for meta in model_metas()}
    if name not in metas:
        raise unknown_name_error("model", name, sorted(metas), f"Known: {', '.join(sorted(metas))}.")
    return metas[name]


def __getattr__(name: str) -> Any:
    if name == "Encoder":
        from rumteb.models.encoder import Encoder

        return Encoder
    if name == "EndpointEncoder":
        from rumteb.models.endpoint import EndpointEncoder

        return EndpointEncoder
    if name in _SETTINGS:
        from rumteb.models import settings

        return getattr(settings, name)
    if name == "MODEL_METAS":
        from rumteb.models._metas import model_metas

        return model_metas()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
