"""The console of ``rumteb run``: quiet third-party output, and thread pools that do not oversubscribe the cores.

Used by the command line: `quiet` and `evaluator_threads` change process-wide state (warning filters, logger levels, progress-bar switches, thread-pool sizes) for the
duration of a ``with`` block and restore it afterwards.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

logger = logging.getLogger(__name__)

#: Libraries whose log records below ERROR and Python warnings carry no information for a ``rumteb run`` user.
_THIRD_PARTY_LOGGERS = (
    "mteb",
    "datasets",
    "transformers",
    "sentence_transformers",
    "huggingface_hub",
    "sklearn",
)
_TRUE = {"1", "ON", "YES", "TRUE"}


@contextmanager
def quiet(verbose: int) -> Iterator[None]:
    """Silence Python warnings (all raised by libraries), third-party log records below ERROR and the progress
    bars of datasets, transformers and huggingface_hub for the block, unless ``verbose`` > 0 (``rumteb -v run``).

    rumteb's own log records (warnings about truncation, stale results, unverified mirrors) are kept.

    Example:
        >>> with quiet(verbose=0):
        ...     run()  # mteb's multilabel evaluator's numpy RuntimeWarning is not shown
    """
    if verbose > 0:
        yield
        return
    with ExitStack() as stack:
        stack.enter_context(warnings.catch_warnings())
        # rumteb reports through logging, never warnings.warn: every Python warning here is a library's (a
        # deprecation raised under rumteb's call is still sentence-transformers' business, not the user's)
        warnings.filterwarnings("ignore")
        for name in _THIRD_PARTY_LOGGERS:
            third_party = logging.getLogger(name)
            stack.callback(third_party.setLevel, third_party.level)
            third_party.setLevel(logging.ERROR)
        stack.enter_context(_no_progress_bars())
        yield


@contextmanager
def _no_progress_bars() -> Iterator[None]:
    import datasets
    import huggingface_hub.utils
    import transformers

    datasets_on = datasets.utils.logging.is_progress_bar_enabled()
    transformers_on = transformers.utils.logging.is_progress_bar_enabled()
    hub_off = huggingface_hub.utils.are_progress_bars_disabled()
    datasets.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    huggingface_hub.utils.disable_progress_bars()
    try:
        yield
    finally:
        if datasets_on:
            datasets.utils.logging.enable_progress_bar()
        if transformers_on:
            transformers.utils.logging.enable_progress_bar()
        if not hub_off:
            huggingface_hub.utils.enable_progress_bars()


@contextmanager
def evaluator_threads(threads: int = 1) -> Iterator[None]:
    """Keep torch's and the evaluators' (scikit-learn, numpy/scipy BLAS) thread pools from oversubscribing the
    cores: the BLAS and OpenMP pools of numpy, scipy and scikit-learn run ``threads`` threads each for the block
    (0: left as they are), while torch keeps its own pool for encoding.

    Why: mteb's evaluators make many small BLAS and OpenMP calls (logistic regression, kNN, k-means) right after
    torch's encoding; each pool spin-waits between calls, and on a machine with few cores the pools take the
    cores from each other (measured: benchmarks/RESULTS.md). One thread per evaluator pool costs little: the
    evaluators' problems are small.
    """
    if threads == 0:
        yield
        return
    import scipy.linalg  # noqa: F401  (load the evaluators' BLAS and OpenMP libraries so that they are found)
    import sklearn.linear_model  # noqa: F401
    import torch
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    torch_dir = os.path.dirname(torch.__file__)
    evaluators = [
        lib.filepath for lib in controller.lib_controllers if not lib.filepath.startswith(torch_dir)
    ]
    torch_threads = torch.get_num_threads()
    with controller.select(filepath=evaluators).limit(limits=threads):
        try:
            yield
        finally:
            torch.set_num_threads(torch_threads)  # whatever ran inside changed it
