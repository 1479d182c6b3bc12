"""Encoding on a Ray cluster: one set of Ray actors for the whole run, each holding the model on its device.

The main process tokenizes and plans the batches exactly as for one device; each planned batch is one actor task,
encoded with the same code (`Runtime`) as in one process, so the output is the same as one process's (bit-equal
in fp32) whatever actor took a batch. The actors are created on the first encode call and kept for every later
one (a run makes about sixty), so the model is loaded once per actor, not once per call; `RayPool.close` (or the
end of the interpreter) kills them.

Nothing here schedules: Ray places the actors (``num_gpus=1`` each on CUDA), ``ray.util.ActorPool`` hands batches
to idle actors, and an actor that dies is restarted by Ray (``max_restarts``) with its task retried
(``max_task_retries``). Without an address a local cluster is started; ``address="auto"`` or ``RAY_ADDRESS`` joins
a running one.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from rumteb.errors import ClusterError, MissingExtraError
from rumteb.models.loading import ModelSpec
from rumteb.models.runtime._batching import Batch, Progress
from rumteb.models.runtime._cluster import connect_ray

logger = logging.getLogger(__name__)

#: How often Ray restarts a dead actor, and retries the task it held, before the run fails. Finite: a batch that
#: kills its actor every time (host out of memory) must end the run, not loop.
MAX_RESTARTS = 3
#: The name of the actor class, as Ray's state API and ``ray list actors`` show it.
ACTOR_CLASS = "RumtebEncoder"


def import_ray() -> Any:
    """``ray``.

    Raises:
        MissingExtraError: Ray is not installed, naming the extra to install.
    """
    try:
        import ray
        import ray.util
    except ImportError as err:
        raise MissingExtraError(
            f'The Ray engine needs Ray: pip install "rumteb[ray]" (or "ray"). ({err})'
        ) from err
    return ray


class RumtebEncoder:
    """A Ray actor: holds the model on its device for the whole run and encodes planned batches, one per task."""

    def __init__(self, spec: ModelSpec, kind: str, precision: str, max_tokens: int, threads: int) -> None:
        import torch

        from rumteb.models.runtime._local import Runtime

        if kind == "cpu" and threads > 0:
            torch.set_num_threads(threads)
        device = "cuda:0" if kind == "cuda" else "cpu"  # Ray sets CUDA_VISIBLE_DEVICES to the actor's GPU
        self.runtime = Runtime(spec, device, precision, max_tokens)

    def ready(self) -> bool:
        """True once the model is loaded (the constructor has run)."""
        return True

    def encode(
        self, number: int, ids: np.ndarray, lengths: np.ndarray, prompt_length: int | None
    ) -> tuple[int, np.ndarray]:
        """``(number, fp32 vectors)`` of one planned batch."""
        vectors = self.runtime.encode(ids, lengths, prompt_length).cpu().numpy()
        return number, vectors.astype(np.float32, copy=False)


class RayPool:
    """Encodes planned batches on a Ray cluster (`rumteb.models.runtime.Backend`) with actors kept for the run.

    Args:
        spec: The model.
        devices: ``["cuda"]`` (one actor per GPU in the cluster), ``["cpu"]`` (one CPU actor) or a list whose
            length is the number of actors (``["cpu", "cpu"]``: two CPU actors; ``["cuda:0", "cuda:1"]``: two GPU
            actors, wherever Ray places them).
        precision: As `Runtime`.
        max_tokens: Token budget of a batch.
        address: A Ray cluster to join (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``); None: the one in
            ``RAY_ADDRESS``, else a new local cluster.

    Example:
        >>> pool = RayPool(spec, ["cpu", "cpu"], "fp32", 8192)  # joins or starts a cluster; no actors yet
        >>> vectors = pool.encode_many(batches, None, progress=lambda n: None)  # starts 2 actors, keeps them
        >>> pool.close()  # kills them
    """

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
        self.spec = spec
        self.precision = precision
        self.max_tokens = int(max_tokens)
        self.kind = "cuda" if devices[0].startswith("cuda") else "cpu"
        self.gcs_address = ray.get_runtime_context().gcs_address
        resources = ray.cluster_resources()
        if self.kind == "cuda":
            gpus = int(resources.get("GPU", 0))
            self.actors = len(devices) if len(devices) > 1 else gpus
            if self.actors < 1 or gpus < 1:
                raise ClusterError(
                    f"The Ray cluster at {self.gcs_address} has no GPUs (resources: {dict(resources)}). "
                    "Use --device cpu, or join a cluster with GPUs."
                )
            self.remote_args: dict[str, Any] = {"num_gpus": 1}
            self.threads = 0
        else:
            self.actors = len(devices)
            cpus = int(resources.get("CPU", 1))
            self.threads = max(1, cpus // self.actors)
            self.remote_args = {"num_cpus": self.threads}
        self._handles: list[Any] = []
        self._pool: Any = None
        self.closed = False
        # kills the actors when the pool is collected or the interpreter exits without close()
        self._finalizer = weakref.finalize(self, _kill, ray, self._handles)

    def _start(self) -> Any:
        """The actor pool, created on the first call and kept: the model is loaded once per actor per run."""
        if self._pool is not None:
            return self._pool
        ray = self.ray
        actor_class = ray.remote(
            max_restarts=MAX_RESTARTS, max_task_retries=MAX_RESTARTS, **self.remote_args
        )(RumtebEncoder)
        args = (self.spec, self.kind, self.precision, self.max_tokens, self.threads)
        # unnamed, not detached: owned by this driver, so they also die with it
        self._handles.extend(actor_class.remote(*args) for _ in range(self.actors))
        logger.info(
            "Ray engine: %d %s actor(s) on the cluster at %s, kept for the run",
            self.actors,
            self.kind.upper(),
            self.gcs_address,
        )
        try:
            ray.get([handle.ready.remote() for handle in self._handles])
        except ray.exceptions.RayError as err:
            self.close()
            raise ClusterError(
                f"The encoder actors failed to start on the Ray cluster at {self.gcs_address}: {err}"
            ) from err
        self._pool = ray.util.ActorPool(self._handles)
        return self._pool

    def encode_many(
        self, batches: list[Batch], prompt_length: int | None, progress: Progress
    ) -> list[np.ndarray]:
        """The vectors of each planned batch, in order (`rumteb.models.runtime.Backend`).

        Raises:
            ClusterError: An actor died more than `MAX_RESTARTS` times, or the cluster went away.
        """
        if self.closed:
            raise RuntimeError("This encoder was closed. Create a new one to encode on the Ray cluster.")
        if not batches:
            return []
        pool = self._start()
        items = [
            (number, ids.astype(np.int32, copy=False), lengths.astype(np.int32, copy=False), prompt_length)
            for number, (ids, lengths) in enumerate(batches)
        ]
        out: list[np.ndarray | None] = [None] * len(batches)
        try:
            for number, vectors in pool.map_unordered(lambda actor, item: actor.encode.remote(*item), items):
                out[number] = vectors
                progress(int(vectors.shape[0]))  # texts
        except self.ray.exceptions.RayActorError as err:
            self.close()  # the pool is unusable after a failed task: the run ends here
            raise ClusterError(
                f"An encoder actor on the Ray cluster at {self.gcs_address} died more than {MAX_RESTARTS} "
                f"times (or the cluster went away): {err}"
            ) from err
        missing = [i for i, o in enumerate(out) if o is None]
        if missing:
            raise RuntimeError(f"The Ray actors returned no vectors for {len(missing)} batch(es).")
        return [o for o in out if o is not None]

    def close(self) -> None:
        """Kill the actors (idempotent); the cluster stays. The pool cannot encode afterwards."""
        self.closed = True
        self._pool = None
        self._finalizer()


def _kill(ray: Any, handles: list[Any]) -> None:
    # at interpreter exit Ray may have shut down first: its actors died with the driver then
    if not ray.is_initialized():
        handles.clear()
        return
    for handle in handles:
        ray.kill(handle, no_restart=True)
    handles.clear()
