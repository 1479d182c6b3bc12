"""What rumteb's encoders accept from mteb's ``encode`` call: the texts of its dataloader, and the encode
arguments they honour, checked once for `rumteb.models.Encoder`, `rumteb.models.EndpointEncoder` and the baselines
(`MtebEncodeMixin`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from mteb.abstasks.task_metadata import TaskMetadata
    from mteb.types import PromptType
    from torch.utils.data import DataLoader

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


class MtebEncodeMixin:
    """mteb's ``EncoderProtocol.encode`` for an encoder that has ``encode_texts(texts, *, prompt,
    show_progress_bar, remember)`` and ``get_prompt(task_metadata, prompt_type)``."""

    encode_texts: Any
    get_prompt: Any
    _streaming: bool = False  # True while a retrieval corpus streams through (its chunks are seen once)

    def encode(
        self,
        inputs: DataLoader[Any],
        *,
        task_metadata: TaskMetadata,
        hf_split: str,
        hf_subset: str,
        prompt_type: PromptType | None = None,
        **kwargs: Any,
    ) -> np.ndarray:
        """mteb's ``EncoderProtocol.encode``: the texts of ``inputs`` in order, with the task's prompt.

        ``batch_size`` from mteb's ``encode_kwargs`` does not apply (batches are cut by tokens: the encoder's
        token budget or request size); ``precision`` (output quantisation) must be ``float32`` if given.

        Raises:
            TypeError: An unknown keyword argument.
            ValueError: Non-text inputs, or an output precision other than float32.
        """
        texts = encode_texts_of(inputs, kwargs, type(self).__name__)
        return self.encode_texts(
            texts,
            prompt=self.get_prompt(task_metadata, prompt_type),
            show_progress_bar=bool(kwargs.get("show_progress_bar")),
            remember=not self._streaming,
        )
