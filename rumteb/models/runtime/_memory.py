"""Memory budgets: parse ``--max-memory``, pick a default from free memory, size corpus chunks by it."""

from __future__ import annotations

import logging
import re
from typing import Any

from rumteb.errors import ParameterError

logger = logging.getLogger(__name__)

_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)

# 512 MiB: chunks of ~21,800 documents at 1024-d. A chunk's peak is ~3 copies of its vectors, so this keeps the peak
# under mteb's default search (50,000-document chunks, ~1 copy) while batches stay large.
DEFAULT_CAP = 512 << 20
MIN_CHUNK_ROWS = 1024
# Host bytes a document costs while its chunk is in flight, beside its embedding: text, token ids, content key,
# dataloader rows (a generous estimate for passages of a few hundred words).
_DOC_OVERHEAD = 8192


def parse_size(value: str | int, owner: str = "Encoder", parameter: str = "max_memory") -> int:
    """Bytes of ``4GiB``, ``512MB``, ``2G``, ``1.5g`` or a plain number of bytes (powers of 1024 throughout).

    Raises:
        ParameterError: Anything else, or a size under 64 MiB (naming ``parameter`` of ``owner``).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    else:
        match = _SIZE.match(str(value))
        if not match:
            raise ParameterError.invalid(owner, parameter, "a size such as 4GiB, 512MiB or 2G", value)
        size = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    if size < 64 << 20:
        raise ParameterError.invalid(owner, parameter, "at least 64MiB", value)
    return size


def available_host_bytes() -> int:
    """MemAvailable from /proc/meminfo (Linux); else the physical memory size."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import os

    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def default_budget() -> int:
    """A quarter of the free host memory, at most `DEFAULT_CAP` (512 MiB), whatever the engine (the Ray engine keeps
    its actors for the run, so a chunk costs no actor start)."""
    return max(64 << 20, min(available_host_bytes() // 4, DEFAULT_CAP))


def chunk_rows(budget: int, dim: int, device: str) -> int:
    """Documents per corpus chunk so that one chunk's host memory (embeddings and inputs) fits ``budget``; on CUDA
    also a quarter of the free device memory for its embeddings."""
    # measured on CPU: a chunk's peak is about 3 fp32 copies of its vectors (per-batch outputs, the chunk's array,
    # scoring) plus heap slack; 4 copies + inputs keeps the peak within the budget
    rows = budget // (16 * dim + _DOC_OVERHEAD)
    if device.startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        rows = min(rows, free // 4 // (4 * dim))
    return max(MIN_CHUNK_ROWS, int(rows))


def release_free_memory() -> None:
    """Hand freed heap memory back to the operating system (glibc's ``malloc_trim``; elsewhere nothing).

    Corpus chunks allocate and free large, varying buffers; glibc raises its mmap threshold after such frees and
    keeps later ones on the heap, so without a trim the resident size creeps up chunk after chunk (~0.7 KB per
    document measured) even though nothing is kept.
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


_LIBC: list[Any] = []


def _libc() -> Any:
    if not _LIBC:
        import ctypes
        import sys

        # the symbols already loaded into this process (no ctypes.util.find_library: it forks ldconfig)
        handle = ctypes.CDLL(None) if sys.platform.startswith("linux") else None
        _LIBC.append(handle if handle is not None and hasattr(handle, "malloc_trim") else None)
        if _LIBC[0] is None:
            logger.debug("No malloc_trim in this process (not glibc): freed memory is not trimmed")
    return _LIBC[0]
