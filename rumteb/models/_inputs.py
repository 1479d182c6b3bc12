"""What rumteb's encoders accept from mteb's ``encode`` call: the texts of its dataloader, and the encode
arguments they honour, checked once for `rumteb.models.Encoder`, `rumteb.models.EndpointEncoder` and the baselines.

`encode_loader` is mteb's ``encode`` for any encoder with ``encode_texts`` and ``get_prompt``, with the in-run
memory as a parameter (a streamed retrieval corpus passes ``remember=False``); `MtebEncodeMixin` declares those two
methods abstract and gives the encoder mteb's ``encode`` from them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
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


def encode_loader(
    model: MtebEncodeMixin,
    inputs: DataLoader[Any],
    *,
    task_metadata: TaskMetadata,
    prompt_type: PromptType | None = None,
    remember: bool = True,
    hf_split: str | None = None,
    hf_subset: str | None = None,
    **kwargs: Any,
) -> np.ndarray:
    """mteb's ``EncoderProtocol.encode`` on ``model``: the texts of ``inputs`` in order, with the task's prompt.

    ``remember=False`` keeps the new embeddings out of the in-run memory (inputs seen once: a streamed corpus).
    ``hf_split`` and ``hf_subset`` are accepted from mteb and unused.

    Raises:
        TypeError: An unknown keyword argument.
        ValueError: Non-text inputs, or an output precision other than float32.
    """
    texts = encode_texts_of(inputs, kwargs, type(model).__name__)
    return model.encode_texts(
        texts,
        prompt=model.get_prompt(task_metadata, prompt_type),
        show_progress_bar=bool(kwargs.get("show_progress_bar")),
        remember=remember,
    )


class MtebEncodeMixin(ABC):
    """mteb's ``EncoderProtocol.encode`` for an encoder that implements `encode_texts` and `get_prompt`."""

    @abstractmethod
    def encode_texts(
        self,
        texts: Sequence[str],
        *,
        prompt: str | None = None,
        show_progress_bar: bool = False,
        remember: bool = True,
    ) -> np.ndarray:
        """Embeddings of ``texts`` (float32, one row per text, in input order), with ``prompt`` prepended;
        ``remember=False`` keeps new ones out of the in-run memory."""

    @abstractmethod
    def get_prompt(self, task_metadata: TaskMetadata, prompt_type: PromptType | None) -> str | None:
        """The prompt text for a task and prompt type (None: no prompt)."""

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
        return encode_loader(self, inputs, task_metadata=task_metadata, prompt_type=prompt_type, **kwargs)
