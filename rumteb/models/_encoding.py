"""New texts to vectors on rumteb's encoder's backend: `ModelEmbedding`, the embedding function that
`rumteb.models.encoder.Encoder` hands its `rumteb.models.cache.CachedEmbedder`.

The texts of a call are tokenized once, sorted by length and cut into batches by the backend's token budget
(ties by content key, so the batches depend on the set of texts, never on their order); the backend (this
process, worker processes or Ray) encodes the batches and the rows go back in input order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from rumteb.models.runtime import plan_batches, tokenize

if TYPE_CHECKING:
    from rumteb.models.loading import ModelSpec
    from rumteb.models.runtime import Backend


class ModelEmbedding:
    """Embeds new, distinct inputs on ``backend`` (a `rumteb.models.cache.EmbedFunction`).

    Args:
        tokenizer: The model's tokenizer.
        backend: Runs the model.
        spec: The model: its ``max_length`` (inputs are truncated to it) and ``include_prompt`` (else the prompt's
            tokens are left out of pooling).
        lower_case: Lower-case the inputs first (the model's tokenizer expects it).
        dim: The embedding dimension.

    Example:
        >>> embed = ModelEmbedding(tokenizer, backend, spec, lower_case=False, dim=768)
        >>> embed(["query: мама мыла раму"], keys, "query: ", False).shape
        (1, 768)
    """

    def __init__(self, tokenizer: Any, backend: Backend, spec: ModelSpec, lower_case: bool, dim: int) -> None:
        self.tokenizer = tokenizer
        self.backend = backend
        self.max_length = spec.max_length
        self.lower_case = lower_case
        self.include_prompt = spec.include_prompt
        self.dim = dim
        self.truncated = 0  # inputs longer than max_length, cut to it
        self._prompt_lengths: dict[str, int] = {}

    def prompt_length(self, prompt: str) -> int:
        """Tokens of ``prompt`` at the start of an input (its special tokens at the start, none at the end)."""
        if prompt not in self._prompt_lengths:
            ids = self.tokenizer(
                prompt, add_special_tokens=True, truncation=True, max_length=self.max_length
            )["input_ids"]
            length = len(ids)
            if ids and ids[-1] in set(self.tokenizer.all_special_ids):
                length -= 1
            self._prompt_lengths[prompt] = length
        return self._prompt_lengths[prompt]

    def __call__(
        self, inputs: list[str], keys: list[bytes], prompt: str | None, show_progress_bar: bool
    ) -> np.ndarray:
        """One float32 row per input, in order; ``keys`` break ties in length."""
        from tqdm.auto import tqdm

        if self.lower_case:
            inputs = [text.lower() for text in inputs]
        tokens = tokenize(self.tokenizer, inputs, self.max_length)
        self.truncated += tokens.truncated
        tie_break = np.frombuffer(b"".join(k[:8] for k in keys), dtype=">u8")
        # the backend's current budget: a local runtime halves it after an out-of-memory error
        plan = plan_batches(tokens.lengths, tie_break, self.backend.max_tokens)
        batches = [tokens.gather(rows) for rows in plan]
        prompt_length = self.prompt_length(prompt) if prompt and not self.include_prompt else None
        # leave=False: the bar goes when the call ends, the console keeps one line per task
        # counts texts, so the rate is texts/s (across all devices or Ray actors)
        bar = tqdm(
            total=len(inputs), desc="Encoding", unit=" texts", disable=not show_progress_bar, leave=False
        )
        with bar:
            outputs = self.backend.encode_many(batches, prompt_length, bar.update)
        out = np.zeros((len(inputs), self.dim), dtype=np.float32)
        for rows, vectors in zip(plan, outputs, strict=True):
            out[rows] = vectors
        return out
