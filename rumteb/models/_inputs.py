"""What rumteb's encoders accept from mteb's ``encode`` call: the texts of its dataloader, and the encode
arguments they honour (one check for `rumteb.models.Encoder` and `rumteb.models.EndpointEncoder`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ENCODE_KWARGS = ("batch_size", "show_progress_bar", "precision")


def encode_texts_of(inputs: Iterable[Mapping[str, Any]], kwargs: Mapping[str, Any], owner: str) -> list[str]:
    """The texts of mteb's dataloader ``inputs``, in order, after checking the encode arguments ``kwargs``.

    Raises:
        TypeError: An unknown keyword argument.
        ValueError: Non-text inputs, or an output precision other than float32.
    """
    unknown = sorted(set(kwargs) - set(ENCODE_KWARGS))
    if unknown:
        raise TypeError(f"{owner}.encode got unexpected keyword argument(s): {', '.join(unknown)}.")
    if kwargs.get("precision", "float32") != "float32":
        raise ValueError(
            f"The 'precision' encode argument of {owner} must be 'float32'. Got {kwargs['precision']!r} instead; "
            f"{owner} computes float32 embeddings (output quantisation is not supported)."
        )
    texts: list[str] = []
    for batch in inputs:
        if "text" not in batch:
            raise ValueError(f"{owner} encodes text only; the inputs hold {sorted(batch)}.")
        texts.extend(batch["text"])
    return texts
