"""The ``ModelMeta`` to add to mteb for a model its registry does not know, written from a results folder.

The results repository's CI fails for a model without a ``ModelMeta`` in mteb
(``tests/test_model_implementation.py`` looks each ``model_meta.json`` name up in ``mteb.get_model_metas()``), so
such a submission needs a pull request to mteb (``mteb/models/model_implementations/``) too. `model_meta_block`
writes that block from what ``rumteb run`` recorded: ``model_meta.json`` (mteb's own dump of the ``ModelMeta`` it
ran) and ``run_settings.jsonl`` (the parameters rumteb counted in the weights, the embedding dimension). A value
the folder does not hold stays ``None`` with a comment naming what to fill in; nothing is guessed. The only value
derived is ``memory_usage_mb`` from ``n_parameters``, by mteb's own rule (4 bytes a parameter,
``ModelMeta.calculate_memory_usage_mb`` without the Hub).

Example:
    >>> folder = Path("out/results/org__model/0123456789abcdef0123456789abcdef01234567")
    >>> if not is_registered("org/model"):
    ...     print(model_meta_block(folder))
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The fields written, in mteb's order, and what to fill in when the folder does not say.
_MISSING = {
    "release_date": "release_date: not recorded; the date the revision was published, 'YYYY-MM-DD'",
    "languages": "languages: not recorded; the model's languages as ISO 639-3 + script, e.g. 'rus-Cyrl'",
    "n_parameters": "n_parameters: not recorded; the total parameter count",
    "n_embedding_parameters": "n_embedding_parameters: not recorded; the input embedding matrix's size",
    "memory_usage_mb": "memory_usage_mb: unknown without n_parameters",
    "max_tokens": "max_tokens: not recorded; the longest input in tokens",
    "embed_dim": "embed_dim: not recorded; the embedding dimension",
    "license": "license: not recorded; the license's id (e.g. 'mit') or a URL to it",
    "open_weights": "open_weights: not recorded; True when the weights are public",
    "public_training_code": "public_training_code: not recorded; a URL, or None if not public",
    "public_training_data": "public_training_data: not recorded; a URL, or None if not public",
    "framework": "framework: not recorded; e.g. ['Sentence Transformers', 'PyTorch']",
    "reference": "reference: not recorded; the model's page, e.g. its Hub URL",
    "similarity_fn_name": "similarity_fn_name: not recorded; ScoringFunction.COSINE, DOT_PRODUCT, ...",
    "use_instructions": "use_instructions: not recorded; True if the model takes prompts or prefixes",
    "training_datasets": (
        "training_datasets: not declared; the mteb tasks whose data trained the model (set() for none) "
        "- the leaderboard's Zero-shot column is unknown without it"
    ),
}
_OPTIONAL = ("adapted_from", "superseded_by", "citation", "contacts", "n_active_parameters_override")
_DEFAULTS = {"modalities": ["text"], "model_type": ["dense"]}


def is_registered(name: str) -> bool:
    """Whether mteb's model registry (the installed mteb) has a ``ModelMeta`` named ``name``; no network.

    Example:
        >>> is_registered("intfloat/multilingual-e5-small"), is_registered("local/my-model")
        (True, False)
    """
    import mteb

    try:
        mteb.get_model_meta(name, fetch_from_hf=False)
    except KeyError:
        return False
    return True


def model_meta_values(folder: Path) -> dict[str, Any]:
    """The ``ModelMeta`` keyword arguments that a revision folder's ``model_meta.json`` and run settings give.

    Args:
        folder: A revision folder written by ``rumteb run`` (or mteb 2): ``model_meta.json`` required.

    Returns:
        ``loader`` (None), ``name``, ``revision``, the fields mteb requires (None where unknown) and
        ``n_embedding_parameters``, ``reference``, plus the optional fields the folder sets.

    Raises:
        ResultsError: No readable ``model_meta.json`` with a name.

    Example:
        >>> model_meta_values(folder)["n_parameters"]
        207680
    """
    from mteb.models.model_meta import ScoringFunction

    from rumteb.reporting.result_file import ResultsError

    path = folder / "model_meta.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ResultsError(f"Cannot read {path}: {err}.") from err
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        raise ResultsError(f"Cannot write a ModelMeta from {path}: it has no 'name'.")
    counted = _counted(folder)
    values: dict[str, Any] = {
        "loader": None,
        "name": meta["name"],
        "revision": meta.get("revision") or folder.name,
    }
    for key in _MISSING:
        values[key] = meta.get(key)
    values["n_parameters"] = values["n_parameters"] or counted.get("n_parameters")
    values["embed_dim"] = values["embed_dim"] or counted.get("embed_dim")
    if values["memory_usage_mb"] is None and values["n_parameters"] is not None:
        values["memory_usage_mb"] = round(values["n_parameters"] * 4 / 1024**2)
    if values["framework"] is None:
        values["framework"] = []
    if values["training_datasets"] is not None:
        values["training_datasets"] = set(values["training_datasets"])
    if values["similarity_fn_name"] is not None:
        try:
            values["similarity_fn_name"] = ScoringFunction(values["similarity_fn_name"])
        except ValueError:  # a name this mteb does not know: left to fill in, with its comment
            values["similarity_fn_name"] = None
    values.update({key: meta[key] for key in _OPTIONAL if meta.get(key) is not None})
    values.update({key: meta[key] for key in _DEFAULTS if meta.get(key) not in (None, _DEFAULTS[key])})
    return values


def model_meta_block(folder: Path) -> str:
    """Python code that defines the model's ``ModelMeta``, to add to ``mteb/models/model_implementations/``.

    Fields the folder does not hold are ``None`` with a comment naming what to fill in; a local model's name is
    flagged, as it must become the Hub id.

    Raises:
        ResultsError: No readable ``model_meta.json`` with a name.

    Example:
        >>> print(model_meta_block(folder))  # doctest: +ELLIPSIS
        from mteb.models.model_meta import ModelMeta, ScoringFunction
        ...
    """
    values = model_meta_values(folder)
    recorded = _meta_keys(folder)
    notes = {key: _MISSING[key] for key, value in values.items() if value is None and key in _MISSING}
    notes["loader"] = (
        "loader: None registers the results only; to run the model, e.g. sentence_transformers_loader"
    )
    if str(values["name"]).startswith("local/"):
        notes["name"] = (
            "name: a local folder; use the model's Hub id once uploaded (and its commit as revision)"
        )
    for key in ("n_parameters", "embed_dim"):
        if values[key] is not None and key not in recorded:
            notes[key] = f"{key}: counted in the weights by rumteb run (run_settings.jsonl)"
    if values["memory_usage_mb"] is not None and "memory_usage_mb" not in recorded:
        notes["memory_usage_mb"] = (
            "memory_usage_mb: n_parameters x 4 bytes, as mteb computes it without the Hub"
        )
    identifier = re.sub(r"\W+", "_", str(values["name"]).split("/")[-1]).strip("_").lower() or "model"
    if identifier[0].isdigit():
        identifier = "model_" + identifier
    lines = [
        "from mteb.models.model_meta import ModelMeta, ScoringFunction",
        "",
        f"{identifier} = ModelMeta(",
    ]
    for key, value in values.items():
        line = f"    {key}={_code(value)},"
        lines.append(f"{line}  # {notes[key]}" if key in notes else line)
    lines.append(")")
    return "\n".join(lines) + "\n"


def _counted(folder: Path) -> Mapping[str, Any]:
    """``rumteb.model`` of the last ``run_settings.jsonl`` entry that has it (what rumteb counted in the weights)."""
    path = folder / "run_settings.jsonl"
    found: Mapping[str, Any] = {}
    if not path.is_file():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # reported by the run settings check
        model = entry.get("rumteb", {}).get("model") if isinstance(entry, dict) else None
        if isinstance(model, dict):
            found = model
    return found


def _meta_keys(folder: Path) -> set[str]:
    meta = json.loads((folder / "model_meta.json").read_text(encoding="utf-8"))
    return {key for key, value in meta.items() if value is not None}


def _code(value: Any) -> str:
    from enum import Enum

    if isinstance(value, Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(_code(v) for v in sorted(value)) + "}" if value else "set()"
    if isinstance(value, list):
        return "[" + ", ".join(_code(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_code(k)}: {_code(v)}" for k, v in value.items()) + "}"
    return repr(value)
