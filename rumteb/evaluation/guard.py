"""Checks around any mteb encoder during ``rumteb run``: inputs without None, outputs of the right shape and finite.

The model's ``encode`` is replaced on the instance for the duration of the run (and restored after), not wrapped
in a proxy: mteb dispatches on ``isinstance(model, SearchProtocol)`` and friends, and the model keeps its class,
its protocols and every other method. Retrieval search wrappers call ``model.encode`` and so pass the checks too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from rumteb.errors import RumtebError

logger = logging.getLogger(__name__)

# An upper bound on tokens per character over WordPiece, byte-level BPE and SentencePiece with byte fallback:
# texts short enough under it cannot reach the model's limit and are not tokenized a second time.
_MAX_TOKENS_PER_CHAR = 5


class EncodeCheckError(RumtebError, ValueError):
    """An encoder's input or output is unusable: None in the inputs, NaN/inf, wrong number of rows or dimension."""


def _where(task_metadata: Any, hf_split: str, hf_subset: str) -> str:
    subset = "" if hf_subset in ("default", "", None) else f", subset {hf_subset}"
    return f"task {task_metadata.name}, split {hf_split}{subset}"


class EncodeGuard:
    """Validates every ``encode`` call of one model and counts truncated inputs per task."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.dim: int | None = _declared_dim(model)
        self._dim_source = "its declared embed_dim" if self.dim is not None else None
        self.truncated = 0
        self.texts = 0
        from rumteb.evaluation.speed import SpeedMeter, tokenizer_and_limit

        self._limit = tokenizer_and_limit(model)

        self.speed = SpeedMeter(model)

    def reset(self) -> None:
        """Start counting truncated texts (and encode throughput) for a new task."""
        self.truncated = 0
        self.texts = 0
        self.speed.reset()

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Replace ``model.encode`` with the checked version while the block runs."""
        model = self.model
        had_own = "encode" in vars(model)
        own = vars(model).get("encode")
        original = model.encode

        def encode(inputs: Any, *, task_metadata: Any, hf_split: str, hf_subset: str, **kwargs: Any) -> Any:
            where = _where(task_metadata, hf_split, hf_subset)
            texts = _texts(inputs)
            counts_itself = isinstance(getattr(model, "stats", None), dict) and "truncated" in model.stats
            before = model.stats["truncated"] if counts_itself else 0
            if texts is not None:
                self._check_inputs(texts, where)
                if not counts_itself:
                    self._count_truncated(texts, task_metadata, kwargs.get("prompt_type"))
            with self.speed.measure(texts, _prompt(model, task_metadata, kwargs.get("prompt_type"))):
                output = original(
                    inputs, task_metadata=task_metadata, hf_split=hf_split, hf_subset=hf_subset, **kwargs
                )
            # rumteb's encoder counts while tokenizing: no second tokenizer pass
            if counts_itself and texts is not None:
                self.texts += len(texts)
                self.truncated += model.stats["truncated"] - before
            self._check_output(output, None if texts is None else len(texts), where, texts)
            return output

        model.encode = encode
        try:
            yield
        finally:
            if had_own:
                model.encode = own
            else:
                del model.encode

    def _check_inputs(self, texts: list[Any], where: str) -> None:
        for row, text in enumerate(texts):
            if not isinstance(text, str):
                raise EncodeCheckError(
                    f"The input text of row {row} ({where}) is {text!r}, not a string. The dataset has a missing "
                    "text: fix the mirror (rumteb data verify) or the dataset_transform of the task."
                )

    def _count_truncated(self, texts: list[str], task_metadata: Any, prompt_type: Any) -> None:
        self.texts += len(texts)
        if self._limit is None:
            return
        tokenizer, limit = self._limit
        prompt = _prompt(self.model, task_metadata, prompt_type) or ""
        long = [prompt + t for t in texts if _MAX_TOKENS_PER_CHAR * (len(prompt) + len(t)) + 4 > limit]
        for start in range(0, len(long), 4096):
            encoded = tokenizer(
                long[start : start + 4096], add_special_tokens=True, truncation=True, max_length=limit + 1
            )["input_ids"]
            self.truncated += sum(len(ids) > limit for ids in encoded)

    def report(self, task_name: str) -> None:
        """Say once per task how many of its texts were longer than the model's limit (and so truncated)."""
        if self.truncated and self._limit is not None:
            logger.warning(
                "%s: %d of %d texts are longer than the model's limit of %d tokens and were truncated to it",
                task_name,
                self.truncated,
                self.texts,
                self._limit[1],
            )

    def _check_output(self, output: Any, rows: int | None, where: str, texts: list[Any] | None) -> None:
        shape, finite = _shape_and_finite_rows(output)
        if shape is None:
            return  # not an array (e.g. sparse or multi-vector output): nothing generic to check
        name = type(self.model).__name__
        if len(shape) != 2:
            raise EncodeCheckError(
                f"The encoder {name} returned an array of shape {shape} ({where}); expected (rows, dimension)."
            )
        if rows is not None and shape[0] != rows:
            raise EncodeCheckError(
                f"The encoder {name} returned {shape[0]} embeddings for {rows} inputs ({where}); the first row "
                f"without its own embedding is row {min(shape[0], rows)}."
            )
        if self.dim is None:
            self.dim, self._dim_source = int(shape[1]), f"its first output ({where})"
        elif shape[1] != self.dim:
            raise EncodeCheckError(
                f"The encoder {name} returned {shape[1]}-dimensional embeddings ({where}); expected {self.dim}, "
                f"as {self._dim_source}."
            )
        if finite is not None and not finite.all():
            bad = np.flatnonzero(~finite)
            text = "" if texts is None or bad[0] >= len(texts) else f": {str(texts[bad[0]])[:80]!r}"
            raise EncodeCheckError(
                f"The encoder {name} returned NaN or inf for {len(bad)} of {shape[0]} inputs ({where}); the "
                f"first is row {bad[0]}{text}. Check the model's weights and precision (try --precision fp32)."
            )


def _declared_dim(model: Any) -> int | None:
    meta = getattr(model, "mteb_model_meta", None)
    dim = getattr(meta, "embed_dim", None)
    return dim if isinstance(dim, int) and not isinstance(dim, bool) and dim > 0 else None


def _prompt(model: Any, task_metadata: Any, prompt_type: Any) -> str | None:
    from rumteb.models.encoder import Encoder

    if isinstance(model, Encoder):
        return model.get_prompt(task_metadata, prompt_type)
    prompts = getattr(model, "model_prompts", None)
    if isinstance(prompts, dict) and callable(getattr(model, "get_prompt_name", None)):
        name = model.get_prompt_name(task_metadata, prompt_type)
        prompt = prompts.get(name) if name else None
        return prompt if isinstance(prompt, str) else None
    return None


def _texts(inputs: Any) -> list[Any] | None:
    """The ``text`` column of an mteb DataLoader's dataset, in order, or None for other inputs."""
    import datasets

    dataset = getattr(inputs, "dataset", None)
    if isinstance(dataset, datasets.Dataset) and "text" in dataset.column_names:
        return dataset["text"][:]  # one slice read: iterating a datasets Column costs a lookup per row
    return None


def _shape_and_finite_rows(output: Any) -> tuple[tuple[int, ...] | None, np.ndarray | None]:
    """The output's shape and, per row, whether all its values are finite (None where it cannot be told)."""
    if hasattr(output, "detach") and hasattr(output, "shape"):  # a torch tensor
        import torch

        tensor = output.detach()
        shape = tuple(int(n) for n in tensor.shape)
        if tensor.ndim != 2 or not tensor.is_floating_point():
            return shape, None
        return shape, torch.isfinite(tensor).all(dim=1).cpu().numpy()
    if isinstance(output, np.ndarray):
        if output.ndim != 2 or not np.issubdtype(output.dtype, np.number):
            return output.shape, None
        return output.shape, np.asarray(np.isfinite(output).all(axis=1))
    return None, None
