"""One worker process per device. The main process plans the batches; workers pull them from one queue.

Each batch is computed by exactly one worker with the same code as in the main process, and results are put back
by batch number, so the output does not depend on how many devices there are or which one took a batch.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import traceback
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from rumteb.models.loading import ModelSpec
from rumteb.models.runtime._batching import Batch, Progress

logger = logging.getLogger(__name__)

_STARTUP_TIMEOUT_S = 600.0


def _worker_main(
    spec: ModelSpec, device: str, precision: str, max_tokens: int, threads: int, tasks: Any, results: Any
) -> None:
    try:
        import torch

        if device == "cpu" and threads > 0:
            torch.set_num_threads(threads)
        if device.startswith("cuda"):
            torch.cuda.set_device(torch.device(device))
        from rumteb.models.runtime._local import Runtime

        runtime = Runtime(spec, device, precision, max_tokens)
        results.put(("ready", device, None))
    except BaseException:
        results.put(("failed", device, traceback.format_exc()))
        return
    while True:
        job = tasks.get()
        if job is None:
            return
        number, ids, lengths, prompt_length = job
        try:
            vectors = runtime.encode(ids, lengths, prompt_length).cpu().numpy()
            results.put(("done", number, vectors))
        except BaseException:
            results.put(("error", number, traceback.format_exc()))


class WorkerPool:
    """``len(devices)`` processes (spawned), each holding the model on its device."""

    def __init__(self, spec: ModelSpec, devices: Sequence[str], precision: str, max_tokens: int) -> None:
        # the budget the main process plans with; each worker halves its own on out-of-memory
        self.max_tokens = int(max_tokens)
        context = mp.get_context("spawn")
        self.tasks = context.Queue()
        self.results = context.Queue()
        cpu_workers = sum(1 for d in devices if d == "cpu")
        threads = max(1, (mp.cpu_count() or 1) // cpu_workers) if cpu_workers else 0
        self.processes = [
            context.Process(
                target=_worker_main,
                args=(spec, device, precision, max_tokens, threads, self.tasks, self.results),
                daemon=True,
                name=f"rumteb-encoder-{device}-{n}",
            )
            for n, device in enumerate(devices)
        ]
        for process in self.processes:
            process.start()
        self._finalizer = weakref.finalize(self, _shutdown, self.processes, self.tasks)
        ready = 0
        while ready < len(self.processes):
            kind, device, error = self._next(_STARTUP_TIMEOUT_S)
            if kind != "ready":
                self.close()
                raise RuntimeError(f"The encoder worker for {device} failed to start:\n{error}")
            ready += 1

    def _next(self, timeout: float) -> tuple[Any, Any, Any]:
        waited = 0.0
        while True:
            try:
                return self.results.get(timeout=1.0)
            except queue.Empty:
                waited += 1.0
                dead = [p.name for p in self.processes if not p.is_alive()]
                if dead:
                    self.close()
                    raise RuntimeError(f"Encoder worker(s) {', '.join(dead)} exited unexpectedly.") from None
                if waited >= timeout:
                    self.close()
                    raise TimeoutError(f"No answer from the encoder workers in {timeout:.0f} s.") from None

    def encode_many(
        self, batches: list[Batch], prompt_length: int | None, progress: Progress
    ) -> list[np.ndarray]:
        """The vectors of each planned batch, in order (`rumteb.models.runtime.Backend`)."""
        if not self._finalizer.alive:
            raise RuntimeError("This encoder was closed: its worker processes are stopped. Create a new one.")
        for number, (ids, lengths) in enumerate(batches):
            self.tasks.put((number, ids, lengths, prompt_length))
        out: list[np.ndarray | None] = [None] * len(batches)
        for _ in batches:
            kind, number, payload = self._next(float("inf"))
            if kind != "done":
                self.close()
                raise RuntimeError(f"An encoder worker failed on batch {number}:\n{payload}")
            out[number] = payload
            progress(int(batches[number][1].size))  # texts
        return [o for o in out if o is not None]

    def close(self) -> None:
        """Stop the worker processes (idempotent)."""
        self._finalizer()


def _shutdown(processes: list[Any], tasks: Any) -> None:
    for _ in processes:
        try:
            tasks.put(None)
        except (OSError, ValueError):
            break
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
            process.join(timeout=5)
