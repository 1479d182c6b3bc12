"""Griffe extension used by the docs build (docs/mkdocs.yml): rumteb's docstrings head their doctests with
``Example:`` (house style), which Google-style parsing reads as an admonition, not as code. This renames the header
to ``Examples:`` so the doctest lines render as Python code instead of Markdown."""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

_EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", flags=re.MULTILINE)


class ExampleSections(Extension):
    """Rename ``Example:`` section headers to ``Examples:`` in every docstring, before it is parsed."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
