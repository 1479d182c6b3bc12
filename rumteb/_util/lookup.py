"""Errors for unknown names, with the closest known names as suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from rumteb.errors import UnknownNameError


def unknown_name_error(kind: str, name: object, known: Sequence[str], fix: str = "") -> UnknownNameError:
    """An `UnknownNameError` (a LookupError) naming the bad value, the close matches ("Did you mean: …?") and
    the fix.

    Example:
        >>> str(unknown_name_error("task", "TERRA", ["TERRa", "STS22"]))
        "Unknown task 'TERRA'. Did you mean: TERRa?"
    """
    text = str(name)
    lowered = {k.lower(): k for k in known}
    matches = difflib.get_close_matches(text, known, n=3, cutoff=0.6)
    if text.lower() in lowered and lowered[text.lower()] not in matches:
        matches.insert(0, lowered[text.lower()])
    message = f"Unknown {kind} {text!r}."
    if matches:
        message += f" Did you mean: {', '.join(matches)}?"
    if fix:
        message += f" {fix}"
    return UnknownNameError(message)
