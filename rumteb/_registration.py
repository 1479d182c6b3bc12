"""Make rumteb's benchmarks visible to mteb's own lookups.

mteb (2.26 - 2.x) has no plugin entry point. `register` adds entries to two module-level registries, and nothing
else, without replacing any of mteb's own entries:

- ``mteb.benchmarks.get_benchmark._build_registry()`` (a cached dict: benchmark name -> Benchmark) gains
  ``ruMTEB`` and ``ruMTEB(v1.1)``; ``_build_aliases_registry()`` gains ``ruMTEB(v1)``;
- ``mteb.models.model_implementations.MODEL_REGISTRY`` gains rumteb's models, when rumteb defines any.

Tasks are not registered: each rumteb task has the name of an mteb built-in with the same data and scoring, and
mteb's result tooling looks tasks up by that name.
"""

from __future__ import annotations

import importlib
import logging

from rumteb.errors import DependencyError

logger = logging.getLogger(__name__)


def _model_metas() -> list[object]:
    try:
        models = importlib.import_module("rumteb.models")
    except ModuleNotFoundError:
        return []
    return list(getattr(models, "MODEL_METAS", ()))


def register() -> None:
    """Add rumteb's benchmarks (and models) to mteb's registries; safe to call more than once.

    After it, ``mteb.get_benchmark("ruMTEB")`` and ``mteb run -b ruMTEB`` work. Built-in names are never replaced.

    Raises:
        DependencyError: The installed mteb lacks the registries this relies on (an unsupported mteb version).

    Example:
        >>> rumteb.register()
        >>> mteb.get_benchmark("ruMTEB(v1)").name
        'ruMTEB'
    """
    from rumteb.benchmark import ALIASES, BENCHMARK_TASKS, build_benchmark

    try:
        benchmarks = importlib.import_module("mteb.benchmarks.get_benchmark")
        registry = benchmarks._build_registry()
        aliases = benchmarks._build_aliases_registry()
        model_registry = importlib.import_module("mteb.models.model_implementations").MODEL_REGISTRY
    except (ImportError, AttributeError) as err:
        raise DependencyError(
            "rumteb.register() supports mteb>=2.26,<3, whose benchmark and model registries it extends; the "
            f"installed mteb does not have them ({err}). Install a supported version: pip install 'mteb>=2.26,<3'."
        ) from err

    for name in BENCHMARK_TASKS:
        if name not in registry:
            registry[name] = build_benchmark(name)
    for alias, target in ALIASES.items():
        aliases.setdefault(alias, registry[target])
    for meta in _model_metas():
        name = meta.name  # type: ignore[attr-defined]
        if name in model_registry and model_registry[name] is not meta:
            logger.debug("mteb already defines the model %s; keeping mteb's entry", name)
            continue
        model_registry[name] = meta
