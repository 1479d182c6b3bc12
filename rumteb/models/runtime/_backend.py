"""The one interface of the engines that run the model (`Backend`), and the one place that picks an engine
(`make_backend`): this process on one device (`Runtime`), one worker process per device (`WorkerPool`), or Ray
actors on a cluster, kept for the run (`RayPool`). The encoder plans the batches and never asks which engine it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from rumteb.models.runtime._batching import Batch, Progress

if TYPE_CHECKING:
    import numpy as np

    from rumteb.models.loading import ModelSpec


class Backend(Protocol):
    """Planned batches of token ids in, fp32 sentence vectors out, on whatever runs the model."""

    #: token budget of a batch (rows x longest row) to plan with; a backend may lower it after an out-of-memory
    max_tokens: int

    def encode_many(
        self, batches: list[Batch], prompt_length: int | None, progress: Progress
    ) -> list[np.ndarray]:
        """The vectors of each ``(ids, lengths)`` batch, in order; ``progress(n)`` after each batch of ``n`` texts.

        ``prompt_length``: tokens of the prompt to leave out of pooling (None: pool over the whole input).
        """
        ...

    def close(self) -> None:
        """Release the model (stop worker processes); the backend cannot encode afterwards."""
        ...


def make_backend(
    spec: ModelSpec,
    devices: Sequence[str],
    precision: str,
    max_tokens: int,
    engine: str = "local",
    ray_address: str | None = None,
) -> Backend:
    """The engine for ``devices``: Ray actors with ``engine="ray"``, else this process for one device, else one
    worker process per device.

    Example:
        >>> backend = make_backend(spec, ["cpu"], "fp32", 2048)
        >>> vectors = backend.encode_many(batches, None, progress=lambda n: None)
    """
    if engine == "ray":
        from rumteb.models.runtime._ray import RayPool

        return RayPool(spec, devices, precision, max_tokens, address=ray_address)
    if len(devices) == 1:
        from rumteb.models.runtime._local import Runtime

        return Runtime(spec, devices[0], precision, max_tokens)
    from rumteb.models.runtime._workers import WorkerPool

    return WorkerPool(spec, devices, precision, max_tokens)
