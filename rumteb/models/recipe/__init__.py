"""Deprecated alias of `rumteb.recipe` (the training recipe moved there in 0.2; this alias goes in 0.3).

``import rumteb.models.recipe.training`` and ``from rumteb.models.recipe.config import load_config`` keep working
and give the very same module objects as ``rumteb.recipe...``, with a DeprecationWarning.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import Any

_NEW = "rumteb.recipe"

warnings.warn(
    f"{__name__} is deprecated and will be removed in rumteb 0.3: import {_NEW} instead.",
    DeprecationWarning,
    stacklevel=2,
)


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``rumteb.models.recipe.X`` as ``rumteb.recipe.X``: the same module object, registered under both."""

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(__name__ + "."):
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        # the import system returns what sys.modules holds under the name after exec_module
        sys.modules[module.__name__] = importlib.import_module(_NEW + module.__name__[len(__name__) :])


if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
    sys.meta_path.append(_AliasFinder())


def __getattr__(name: str) -> Any:
    return getattr(importlib.import_module(_NEW), name)
