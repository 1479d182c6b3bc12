"""Text encoding for rumteb's encoder: texts in, float32 embeddings out, each input encoded once.

`TextEncodingMixin` gives `rumteb.models.encoder.Encoder` ``encode_texts`` (embeddings in input order: identical
inputs and those already in the embedding store, in memory or in ``cache_dir``, are not encoded again; new ones are
tokenized once, sorted by length and cut into batches by a token budget for the device runtime or the worker pool)
and mteb's ``EncoderProtocol.encode`` with its prompt resolution (``get_prompt``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rumteb.models._inputs import MtebEncodeMixin
from rumteb.models.cache import EmbeddingStore, content_keys
from rumteb.models.prompts import resolve_prompt
from rumteb.models.runtime import plan_batches, tokenize

if TYPE_CHECKING:
    from mteb.abstasks.task_metadata import TaskMetadata
    from mteb.types import PromptType

    from rumteb.models.loading import ModelSpec


class TextEncodingMixin(MtebEncodeMixin):
    """Texts to embeddings for `rumteb.models.encoder.Encoder`, and mteb's ``EncoderProtocol.encode``."""

    # set by Encoder.__init__
    tokenizer: Any
    max_length: int
    do_lower_case: bool
    spec: ModelSpec
    embed_dim: int
    max_tokens_per_batch: int
    model_prompts: dict[str, str] | None
    default_prompt: str | None
    namespace: str
    store: EmbeddingStore
    _prompt_lengths: dict[str, int]
    _truncated: int
    _runtime: Any
    _pool: Any

    @property
    def stats(self) -> dict[str, int]:
        """Counts since construction: ``encoded`` (texts run through the model), ``memory_hits``, ``disk_hits``,
        ``truncated`` (encoded texts longer than ``max_length``, cut to it)."""
        return {**self.store.stats, "truncated": self._truncated}

    def _prompt_length(self, prompt: str) -> int:
        if prompt not in self._prompt_lengths:
            ids = self.tokenizer(
                prompt, add_special_tokens=True, truncation=True, max_length=self.max_length
            )["input_ids"]
            length = len(ids)
            if ids and ids[-1] in set(self.tokenizer.all_special_ids):
                length -= 1
            self._prompt_lengths[prompt] = length
        return self._prompt_lengths[prompt]

    def encode_texts(
        self,
        texts: Sequence[str],
        *,
        prompt: str | None = None,
        show_progress_bar: bool = False,
        remember: bool = True,
    ) -> np.ndarray:
        """Embeddings of ``texts`` (float32, one row per text, in input order), with ``prompt`` prepended.

        Example:
            >>> encoder.encode_texts(["мама мыла раму"], prompt="search_query: ").dtype
            dtype('float32')

        ``remember=False`` keeps the new embeddings out of the in-run memory (they still go to ``cache_dir``):
        for inputs seen once, such as a streamed retrieval corpus.
        """
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError("The 'texts' parameter of Encoder.encode_texts must be a list of strings.")
        prompt = prompt or None
        keys = content_keys(self.namespace, prompt, texts)
        first: dict[bytes, int] = {}
        for key in keys:
            first.setdefault(key, len(first))
        unique_keys = list(first)
        cached = self.store.get(unique_keys, remember=remember)
        todo = [i for i, v in enumerate(cached) if v is None]
        fresh = None
        if todo:
            position = {key: i for i, key in enumerate(keys)}  # any occurrence: same text and prompt
            inputs = [(prompt or "") + texts[position[unique_keys[i]]] for i in todo]
            fresh = self._encode_unique(inputs, [unique_keys[i] for i in todo], prompt, show_progress_bar)
            self.store.put([unique_keys[i] for i in todo], fresh, remember=remember)
            if len(todo) == len(keys):  # all new and distinct, in input order: no copy (large corpus chunks)
                return fresh
        vectors = np.zeros((len(unique_keys), self.embed_dim), dtype=np.float32)
        for i, vector in enumerate(cached):
            if vector is not None:
                vectors[i] = vector
        if fresh is not None:
            vectors[todo] = fresh
        return vectors[[first[k] for k in keys]] if keys else vectors

    def _encode_unique(
        self, inputs: list[str], keys: list[bytes], prompt: str | None, show_progress_bar: bool
    ) -> np.ndarray:
        from tqdm.auto import tqdm

        if self.do_lower_case:
            inputs = [text.lower() for text in inputs]
        tokens = tokenize(self.tokenizer, inputs, self.max_length)
        self._truncated += tokens.truncated
        tie_break = np.frombuffer(b"".join(k[:8] for k in keys), dtype=">u8")
        budget = self._runtime.max_tokens if self._runtime is not None else self.max_tokens_per_batch
        plan = plan_batches(tokens.lengths, tie_break, budget)
        batches = [tokens.gather(rows) for rows in plan]
        prompt_length = self._prompt_length(prompt) if prompt and not self.spec.include_prompt else None
        # leave=False: the bar goes when the call ends, the console keeps one line per task
        # counts texts, so the rate is texts/s (across all devices or Ray actors)
        bar = tqdm(
            total=len(inputs), desc="Encoding", unit=" texts", disable=not show_progress_bar, leave=False
        )
        with bar:
            if self._runtime is not None:
                outputs = self._runtime.encode_many(batches, prompt_length, bar)
            else:
                outputs = self._pool.encode_many(batches, prompt_length, bar.update)
        out = np.zeros((len(inputs), self.embed_dim), dtype=np.float32)
        for rows, vectors in zip(plan, outputs, strict=True):
            out[rows] = vectors
        return out

    def get_prompt(self, task_metadata: TaskMetadata, prompt_type: PromptType | None) -> str | None:
        """The prompt text for a task and prompt type (mteb's priority), else the model's default prompt."""
        prompt = resolve_prompt(self.model_prompts, task_metadata, prompt_type)
        return prompt if prompt is not None else self.default_prompt
