"""Where the model runs: the packed BERT-family backbone and its int8 kernels, token-budget batching, one device
in this process (`Runtime`), one worker process per device (`WorkerPool`) or a Ray cluster (`RayPool`), all three
behind one interface (`Backend`, picked by `make_backend`), device names and memory budgets.

Lazy: importing the package loads neither torch nor ray; each name loads its module on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rumteb._util.lazy import lazy_getattr

if TYPE_CHECKING:
    from rumteb.models.runtime._backend import Backend, make_backend
    from rumteb.models.runtime._batching import Batch, Progress, Tokenized, plan_batches, tokenize
    from rumteb.models.runtime._devices import normalize_device, parse_device, parse_devices
    from rumteb.models.runtime._local import DTYPES, Runtime, cpu_has_bf16_matrix_units, resolve_precision
    from rumteb.models.runtime._memory import (
        chunk_rows,
        default_budget,
        parse_size,
        release_free_memory,
    )
    from rumteb.models.runtime._ray import RayPool, import_ray
    from rumteb.models.runtime._workers import WorkerPool

_EXPORTS = {
    "Backend": "_backend",
    "make_backend": "_backend",
    "Batch": "_batching",
    "Progress": "_batching",
    "Tokenized": "_batching",
    "plan_batches": "_batching",
    "tokenize": "_batching",
    "normalize_device": "_devices",
    "parse_device": "_devices",
    "parse_devices": "_devices",
    "DTYPES": "_local",
    "Runtime": "_local",
    "cpu_has_bf16_matrix_units": "_local",
    "resolve_precision": "_local",
    "chunk_rows": "_memory",
    "default_budget": "_memory",
    "parse_size": "_memory",
    "release_free_memory": "_memory",
    "RayPool": "_ray",
    "import_ray": "_ray",
    "WorkerPool": "_workers",
}
__all__ = [
    "DTYPES",
    "Backend",
    "Batch",
    "Progress",
    "RayPool",
    "Runtime",
    "Tokenized",
    "WorkerPool",
    "chunk_rows",
    "cpu_has_bf16_matrix_units",
    "default_budget",
    "import_ray",
    "make_backend",
    "normalize_device",
    "parse_device",
    "parse_devices",
    "parse_size",
    "plan_batches",
    "release_free_memory",
    "resolve_precision",
    "tokenize",
]
__getattr__ = lazy_getattr(__name__, _EXPORTS)
