"""Device names accepted by rumteb: cpu, cuda, cuda:N, mps, or mteb's integer GPU index N (= cuda:N)."""

from __future__ import annotations

import re


def normalize_device(value: object, what: str) -> str:
    """``value`` as a torch device string.

    Args:
        value: The user's device (``"cpu"``, ``"CUDA:1"``, ``"0"``...).
        what: How the error names the parameter, e.g. ``"The '--device' option"``.

    Raises:
        ValueError: Any other value.

    Example:
        >>> normalize_device("0", "The 'device' parameter of Encoder")
        'cuda:0'
    """
    text = str(value).strip().lower()
    if text.isdigit():
        return f"cuda:{text}"
    if text in ("cpu", "cuda", "mps") or re.fullmatch(r"cuda:\d+", text):
        return text
    raise ValueError(f"{what} must be cpu, cuda, cuda:N, mps or a GPU index N. Got {value!r} instead.")
