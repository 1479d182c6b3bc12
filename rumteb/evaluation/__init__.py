"""Running a model on ruMTEB tasks: a model spec resolved into an encoder (`resolve`: `load_model`), the task loop
through ``mteb.evaluate`` (`loop`), the result store (`result_store`), the check of every encode call (`guard`),
size and speed records (`speed`) and the console settings of a run (`console`).

`RuMTEBEvaluator` (ruMTEB during training) is defined with the recipe, in `rumteb.recipe.evaluator`, and
importable from here as before. Imports are lazy: ``import rumteb.evaluation`` loads neither torch nor mteb.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rumteb.evaluation.resolve import load_model
    from rumteb.recipe.evaluator import RuMTEBEvaluator

__all__ = ["RuMTEBEvaluator", "load_model"]


def __getattr__(name: str) -> Any:
    if name == "load_model":
        from rumteb.evaluation.resolve import load_model

        return load_model
    if name == "RuMTEBEvaluator":
        from rumteb.recipe.evaluator import RuMTEBEvaluator

        return RuMTEBEvaluator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
