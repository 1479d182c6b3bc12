"""Encoding as a Ray Data job: planned batches in, embeddings out, on an actor pool across a Ray cluster.

The main process tokenizes and plans the batches exactly as for one device; each planned batch is one row of a
Ray dataset and is encoded by one actor with the same code (`Runtime`) as in one process, so the output is the
same as one process's (bit-equal in fp32) whatever actor took a batch. Ray restarts an actor that dies and
retries its batches. Without an address a local cluster is started; ``address="auto"`` or ``RAY_ADDRESS`` joins
a running one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from rumteb.errors import ClusterError, MissingExtraError
from rumteb.models.loading import ModelSpec
from rumteb.models.runtime._batching import Batch, Progress
from rumteb.models.runtime._cluster import connect_ray

logger = logging.getLogger(__name__)


def import_ray() -> Any:
    """``ray`` with Ray Data.

    Raises:
        MissingExtraError: Ray is not installed, naming the extra to install.
    """
    try:
        import ray
        import ray.data
    except ImportError as err:
        raise MissingExtraError(
            f'The Ray engine needs Ray Data: pip install "rumteb[ray]" (or "ray[data]"). ({err})'
        ) from err
    return ray


class _BatchEncoder:
    """A Ray Data actor: holds the model on its device, encodes planned batches (one per row)."""

    def __init__(self, spec: ModelSpec, kind: str, precision: str, max_tokens: int, threads: int) -> None:
        import torch

        from rumteb.models.runtime._local import Runtime

        if kind == "cpu" and threads > 0:
            torch.set_num_threads(threads)
        device = "cuda:0" if kind == "cuda" else "cpu"  # Ray sets CUDA_VISIBLE_DEVICES to the actor's GPU
        self.runtime = Runtime(spec, device, precision, max_tokens)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = []
        rows = []
        for ids, lengths, prompt_length in zip(
            batch["ids"], batch["lengths"], batch["prompt_length"], strict=True
        ):
            ids_array = np.frombuffer(ids, dtype=np.int32)
            length_array = np.frombuffer(lengths, dtype=np.int32)
            prompt = int(prompt_length) if prompt_length >= 0 else None
            out = self.runtime.encode(ids_array, length_array, prompt).cpu().numpy().astype(np.float32)
            vectors.append(out.tobytes())
            rows.append(out.shape[0])
        return {
            "number": np.asarray(batch["number"]),
            "vectors": np.array(vectors, dtype=object),
            "rows": np.asarray(rows, dtype=np.int64),
        }


class RayPool:
    """Encodes planned batches on a Ray cluster (`WorkerPool`'s interface).

    Args:
        spec: The model.
        devices: ``["cuda"]`` (one actor per GPU in the cluster), ``["cpu"]`` (one CPU actor) or a list whose
            length is the number of actors (``["cpu", "cpu"]``: two CPU actors; ``["cuda:0", "cuda:1"]``: two GPU
            actors, wherever Ray places them).
        precision: As `Runtime`.
        max_tokens: Token budget of a batch.
        address: A Ray cluster to join (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``); None: the one in
            ``RAY_ADDRESS``, else a new local cluster.
    """

    closed = False  # set by close()

    def __init__(
        self,
        spec: ModelSpec,
        devices: Sequence[str],
        precision: str,
        max_tokens: int,
        address: str | None = None,
    ) -> None:
        ray = import_ray()
        self.ray = ray
        if not ray.is_initialized():
            connect_ray(ray, address)  # an address where nothing answers fails in seconds, naming the fix
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.execution_options.preserve_order = True
        self.spec = spec
        self.precision = precision
        self.max_tokens = int(max_tokens)
        self.kind = "cuda" if devices[0].startswith("cuda") else "cpu"
        resources = ray.cluster_resources()
        if self.kind == "cuda":
            gpus = int(resources.get("GPU", 0))
            self.actors = len(devices) if len(devices) > 1 else gpus
            if self.actors < 1 or gpus < 1:
                raise ClusterError(
                    f"The Ray cluster at {ray.get_runtime_context().gcs_address} has no GPUs "
                    f"(resources: {dict(resources)}). Use --device cpu, or join a cluster with GPUs."
                )
            self.remote_args: dict[str, Any] = {"num_gpus": 1}
            self.threads = 0
        else:
            self.actors = len(devices)
            cpus = int(resources.get("CPU", 1))
            self.threads = max(1, cpus // self.actors)
            self.remote_args = {"num_cpus": self.threads}
        logger.info(
            "Ray engine: %d %s actor(s) on the cluster at %s",
            self.actors,
            self.kind.upper(),
            ray.get_runtime_context().gcs_address,
        )

    def encode_many(
        self, batches: list[Batch], prompt_length: int | None, progress: Progress
    ) -> list[np.ndarray]:
        """The vectors of each planned batch, in order (`rumteb.models.runtime.Backend`)."""
        if self.closed:
            raise RuntimeError("This encoder was closed. Create a new one to encode on the Ray cluster.")
        if not batches:
            return []
        ray = self.ray
        items = [
            {
                "number": number,
                "ids": ids.astype(np.int32, copy=False).tobytes(),
                "lengths": lengths.astype(np.int32, copy=False).tobytes(),
                "prompt_length": -1 if prompt_length is None else int(prompt_length),
            }
            for number, (ids, lengths) in enumerate(batches)
        ]
        dataset = ray.data.from_items(items, override_num_blocks=min(len(items), 4 * self.actors * 8))
        encoded = dataset.map_batches(
            _BatchEncoder,
            fn_constructor_kwargs={
                "spec": self.spec,
                "kind": self.kind,
                "precision": self.precision,
                "max_tokens": self.max_tokens,
                "threads": self.threads,
            },
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=self.actors),
            **self.remote_args,
        )
        out: list[np.ndarray | None] = [None] * len(batches)
        for batch in encoded.iter_batches(batch_size=None, batch_format="numpy"):
            for number, vectors, rows in zip(batch["number"], batch["vectors"], batch["rows"], strict=True):
                out[int(number)] = np.frombuffer(vectors, dtype=np.float32).reshape(int(rows), -1)
                progress(int(rows))  # texts
        missing = [i for i, o in enumerate(out) if o is None]
        if missing:
            raise RuntimeError(f"The Ray job returned no vectors for {len(missing)} batch(es).")
        return [o for o in out if o is not None]

    def close(self) -> None:
        """Mark the pool closed. Nothing to stop: Ray Data tears its actors down after each job; the cluster
        stays."""
        self.closed = True
