"""Size and speed beside quality: the columns ``rumteb table --columns speed,size`` adds and the x axis of
``rumteb plot --pareto``.

Size (``Params(M)``, ``Dim``) comes from what ``rumteb run`` recorded in ``run_settings.jsonl`` (parameters counted
on the loaded weights), else from the folder's ``model_meta.json``, else from mteb's model registry (the published
models). Speed (``Texts/s``, ``Tokens/s``, ``Device``) exists only for models run by ``rumteb run``: texts and
tokens encoded per second of ``encode`` calls over all the tasks used, on the device and precision shown. Speeds
measured on different hardware do not compare.

Example:
    >>> from rumteb.reporting.results import load_results
    >>> costs = model_costs(load_results("results")[0])
    >>> costs.n_parameters, costs.embed_dim
    (118000000, 384)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rumteb.reporting.results import ModelScores

logger = logging.getLogger(__name__)

#: Column groups of ``rumteb table --columns`` and the columns each adds, in order. ``board`` adds none: it puts the
#: leaderboard's own columns (`rumteb.reporting.ranking.board_rows`) in place of the default ones.
COLUMN_GROUPS: Mapping[str, tuple[str, ...]] = {
    "board": (),
    "size": ("Params(M)", "Dim"),
    "speed": ("Texts/s", "Tokens/s", "Device"),
}


@dataclass(frozen=True)
class ModelCosts:
    """One model's size and measured speed; None where unknown.

    Attributes:
        n_parameters: Parameter count.
        embed_dim: Embedding dimension.
        texts_per_second: Texts encoded per second of ``encode`` calls (``rumteb run`` only).
        tokens_per_second: Tokens (after truncation) encoded per second.
        device: Where it was measured, with the precision, e.g. ``"cpu bf16"``.
        size_source: ``"run_settings.jsonl"``, ``"model_meta.json"``, ``"mteb registry"`` or None.
    """

    n_parameters: int | None = None
    embed_dim: int | None = None
    texts_per_second: float | None = None
    tokens_per_second: float | None = None
    device: str | None = None
    size_source: str | None = None


def parse_columns(value: str | Sequence[str]) -> tuple[str, ...]:
    """``"speed,size"`` (or a list) -> the groups, validated, in `COLUMN_GROUPS` order.

    Raises:
        LookupError: An unknown group (with the closest names).
    """
    from rumteb._util.lookup import unknown_name_error

    items = value.split(",") if isinstance(value, str) else list(value)
    names = [item.strip() for item in items if item.strip()]
    for name in names:
        if name not in COLUMN_GROUPS:
            raise unknown_name_error(
                "column group", name, list(COLUMN_GROUPS), "Use --columns board,speed,size."
            )
    return tuple(group for group in COLUMN_GROUPS if group in names)


def model_costs(model: ModelScores) -> ModelCosts:
    """Size and speed of a model from the folders its results were read from (see the module docstring)."""
    folders = sorted({result.path.parent for result in model.tasks.values()})
    used = set(model.tasks)
    params: int | None = None
    dim: int | None = None
    source: str | None = None
    devices: set[str] = set()
    texts = tokens = 0
    seconds = token_seconds = 0.0
    for folder in folders:
        for task, record in rumteb_records(folder).items():
            if task not in used or model.tasks[task].path.parent != folder:
                continue
            info = record.get("model") or {}
            params = params if params is not None else count(info.get("n_parameters"))
            dim = dim if dim is not None else count(info.get("embed_dim"))
            if info.get("device"):
                devices.add(f"{info['device']} {info.get('precision') or ''}".strip())
            speed = record.get("throughput") or {}
            if (
                count(speed.get("texts"))
                and isinstance(speed.get("seconds"), (int, float))
                and speed["seconds"] > 0
            ):
                texts += int(speed["texts"])
                seconds += float(speed["seconds"])
                if count(speed.get("tokens")) is not None:
                    tokens += int(speed["tokens"])
                    token_seconds += float(speed["seconds"])
    if params is not None or dim is not None:
        source = "run_settings.jsonl"
    for folder in folders:
        if params is not None and dim is not None:
            break
        meta = read_json(folder / "model_meta.json")
        if isinstance(meta, dict):
            params = params if params is not None else count(meta.get("n_parameters"))
            dim = dim if dim is not None else count(meta.get("embed_dim"))
            source = source or ("model_meta.json" if params is not None or dim is not None else None)
    if params is None or dim is None:
        registry = _registry_size(model.model)
        if registry != (None, None):
            params = params if params is not None else registry[0]
            dim = dim if dim is not None else registry[1]
            source = source or "mteb registry"
    return ModelCosts(
        n_parameters=params,
        embed_dim=dim,
        texts_per_second=round(texts / seconds, 2) if seconds > 0 else None,
        tokens_per_second=round(tokens / token_seconds, 2) if token_seconds > 0 else None,
        device=", ".join(sorted(devices)) or None,
        size_source=source,
    )


def cost_columns(costs: ModelCosts, groups: Sequence[str]) -> dict[str, Any]:
    """The table cells of ``groups`` (from `parse_columns`) for one model."""
    cells: dict[str, Any] = {}
    if "size" in groups:
        params = costs.n_parameters
        cells["Params(M)"] = None if params is None else round(params / 1e6, 2)
        cells["Dim"] = costs.embed_dim
    if "speed" in groups:
        cells["Texts/s"] = costs.texts_per_second
        cells["Tokens/s"] = costs.tokens_per_second
        cells["Device"] = costs.device
    return cells


def rumteb_records(folder: Path) -> dict[str, dict[str, Any]]:
    """Task -> the ``"rumteb"`` record of its last run-settings entry in ``folder`` (none for mteb's own runs).

    Example:
        >>> rumteb_records(Path("results/local__tiny-bert/0123abcd"))["TERRa"]["model"]["embed_dim"]
        64
    """
    path = folder / "run_settings.jsonl"
    if not path.is_file():
        return {}
    records: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            logger.warning("%s: line %d is not JSON; its run settings are ignored", path, number)
            continue
        if isinstance(entry, dict) and isinstance(entry.get("rumteb"), dict):
            records[str(entry.get("task"))] = entry["rumteb"]
    return records


def read_json(path: Path) -> Any:
    """The JSON value of ``path``; None when it is missing or unreadable (``rumteb table`` reports those already).

    Example:
        >>> read_json(Path("results/local__tiny-bert/0123abcd/model_meta.json"))["name"]
        'local/tiny-bert'
    """
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def count(value: Any) -> int | None:
    """``value`` when it is a count (an int >= 0, not a bool) as metadata files should hold one, else None.

    Example:
        >>> count(384), count(-1), count(True), count(None)
        (384, None, None, None)
    """
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@cache
def _registry_size(name: str) -> tuple[int | None, int | None]:
    import mteb

    try:
        meta = mteb.get_model_meta(name)
    except (KeyError, ValueError, LookupError):
        return None, None
    return count(meta.n_parameters), count(meta.embed_dim)
