"""SLERP merging of two fine-tunes of one architecture, as mergekit defines it, without mergekit.

The ru-en-RoSBERTa recipe merges checkpoints with spherical linear interpolation (SLERP). Per tensor: flatten both,
take L2-normalised copies, and if their cosine is above 0.9995 in absolute value fall back to linear interpolation;
otherwise ``θ = arccos(cos)`` and the result is ``sin((1-t)θ)/sin θ · A + sin(tθ)/sin θ · B`` on the *unnormalised*
tensors. ``t = 0`` gives A and ``t = 1`` gives B.

``t`` may vary over layers (a gradient such as ``0, 0.5, 1``, linearly interpolated over the layer index, as
mergekit's gradients) and per module kind (attention, MLP); tensors outside the numbered layers (embeddings, pooler,
final norms) use the base ``t``. Integer and boolean buffers (position ids) are copied from A.

Example:
    >>> import torch
    >>> a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])
    >>> slerp(a, b, 0.5)
    tensor([0.7071, 1.4142])
"""

from __future__ import annotations

import logging
import math
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rumteb.errors import ParameterError

if TYPE_CHECKING:
    import torch

__all__ = ["merge_models", "module_kind", "slerp", "t_for_tensor"]

logger = logging.getLogger(__name__)

DOT_THRESHOLD = 0.9995
_EPS = 1e-8
_LAYER_RE = re.compile(r"(?:^|\.)(?:layer|layers|h|block|blocks)\.(\d+)\.")
_ATTENTION_PARTS = ("attention", "attn", "self_attn")
_MLP_PARTS = ("intermediate", "mlp", "ffn", "feed_forward")

Schedule = float | Sequence[float]


def slerp(a: torch.Tensor, b: torch.Tensor, t: float, dot_threshold: float = DOT_THRESHOLD) -> torch.Tensor:
    """Spherical linear interpolation of two tensors of one shape, mergekit's formula.

    Computed in float64 and returned in A's dtype. When the flattened tensors are nearly (anti)parallel
    (``|cos| > dot_threshold``) the result is the linear interpolation ``(1 - t)·A + t·B``. The weights apply to the
    unnormalised tensors, so the result's norm lies between theirs only approximately (exactly on the arc when both
    norms are equal).

    Args:
        a: tensor A (returned exactly at ``t = 0``).
        b: tensor B, same shape as A (returned exactly at ``t = 1``).
        t: interpolation factor in [0, 1].
        dot_threshold: cosine above which linear interpolation is used.

    Returns:
        A new tensor of A's shape and dtype.

    Example:
        >>> import torch
        >>> slerp(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), 0.5)
        tensor([0.7071, 0.7071])
    """
    if a.shape != b.shape:
        raise ParameterError(
            f"The 'b' parameter of slerp must have the shape of 'a' {tuple(a.shape)}. Got {tuple(b.shape)} instead."
        )
    _check_t("t", "slerp", t)
    import torch

    v0 = a.detach().reshape(-1).to(torch.float64)
    v1 = b.detach().reshape(-1).to(torch.float64)
    n0, n1 = v0.norm(), v1.norm()
    u0 = v0 / n0 if n0 > _EPS else v0
    u1 = v1 / n1 if n1 > _EPS else v1
    dot = float(torch.clamp((u0 * u1).sum(), -1.0, 1.0))
    if abs(dot) > dot_threshold:
        out = (1.0 - t) * v0 + t * v1
    else:
        theta = math.acos(dot)
        sin_theta = math.sin(theta)
        out = (math.sin((1.0 - t) * theta) / sin_theta) * v0 + (math.sin(t * theta) / sin_theta) * v1
    return out.reshape(a.shape).to(a.dtype)


def module_kind(name: str) -> Literal["attention", "mlp", "other"]:
    """Which filter a tensor name falls under: ``attention``, ``mlp`` or ``other``.

    BERT-style names: ``layer.N.attention.*`` is attention; ``layer.N.intermediate.*`` and ``layer.N.output.*``
    (the feed-forward output and its LayerNorm) are MLP. ``attn``, ``mlp``, ``ffn`` name parts are recognised too.

    Example:
        >>> module_kind("encoder.layer.3.attention.self.query.weight"), module_kind("encoder.layer.3.output.dense.bias")
        ('attention', 'mlp')
    """
    parts = name.split(".")
    if any(p in _ATTENTION_PARTS for p in parts):
        return "attention"
    if any(p in _MLP_PARTS for p in parts):
        return "mlp"
    match = _LAYER_RE.search(name)
    if match is not None and name[match.end() :].startswith("output."):
        return "mlp"
    return "other"


def layer_index(name: str) -> int | None:
    """The layer number in a tensor name (``encoder.layer.3.…`` -> 3), or ``None`` outside the layers."""
    match = _LAYER_RE.search(name)
    return int(match.group(1)) if match is not None else None


@dataclass(frozen=True)
class _TPlan:
    base: float
    schedule: Sequence[float] | None
    attention: Schedule | None
    mlp: Schedule | None


def _value_at(schedule: Schedule, layer: int, num_layers: int) -> float:
    if isinstance(schedule, int | float):
        return float(schedule)
    anchors = [float(x) for x in schedule]
    if len(anchors) == 1 or num_layers <= 1:
        return anchors[0]
    # mergekit's gradient: anchors spread evenly over [0, 1], layer i at i / (num_layers - 1).
    x = layer / (num_layers - 1) * (len(anchors) - 1)
    lo = min(math.floor(x), len(anchors) - 2)
    frac = x - lo
    return anchors[lo] + (anchors[lo + 1] - anchors[lo]) * frac


def t_for_tensor(
    name: str,
    num_layers: int,
    t: float = 0.5,
    t_schedule: Sequence[float] | None = None,
    t_attention: Schedule | None = None,
    t_mlp: Schedule | None = None,
) -> float:
    """The interpolation factor of one tensor under a merge plan (see `merge_models`).

    Example:
        >>> t_for_tensor("encoder.layer.0.output.dense.weight", 3, t_schedule=[0, 1])
        0.0
        >>> t_for_tensor("encoder.layer.1.attention.self.key.bias", 3, t_schedule=[0, 1], t_attention=0.9)
        0.9
        >>> t_for_tensor("embeddings.word_embeddings.weight", 3, t=0.3, t_schedule=[0, 1])
        0.3
    """
    layer = layer_index(name)
    if layer is None:
        return float(t)
    kind = module_kind(name)
    if kind == "attention" and t_attention is not None:
        return _value_at(t_attention, layer, num_layers)
    if kind == "mlp" and t_mlp is not None:
        return _value_at(t_mlp, layer, num_layers)
    if t_schedule is not None:
        return _value_at(t_schedule, layer, num_layers)
    return float(t)


def merge_models(
    a_dir: str | Path,
    b_dir: str | Path,
    out_dir: str | Path,
    t: float = 0.5,
    t_schedule: Sequence[float] | None = None,
    t_attention: Schedule | None = None,
    t_mlp: Schedule | None = None,
) -> Path:
    """SLERP-merge two model folders of one architecture into ``out_dir``.

    Both folders may be sentence-transformers folders (the transformer module's folder is found from
    ``modules.json``) or plain transformers folders. The output is a copy of A's folder (sentence-transformers
    config, pooling, prompts, tokenizer) with merged weights, so it loads like A.

    Factor of a tensor: ``t_attention`` / ``t_mlp`` for attention / MLP tensors of the numbered layers when given,
    else ``t_schedule`` for any layer tensor when given, else ``t``. A schedule is a list of anchors spread evenly
    over the layers and linearly interpolated (``[0, 0.5, 1]``: first layer all A, middle half-way, last all B).
    Tensors outside the layers always use ``t``. Integer and boolean tensors are copied from A.

    Args:
        a_dir: model A (``t = 0``).
        b_dir: model B (``t = 1``): same tensor names and shapes as A.
        out_dir: new folder; must not exist or be empty.
        t: base factor in [0, 1].
        t_schedule: gradient over layers, values in [0, 1].
        t_attention: factor (or gradient) for attention tensors.
        t_mlp: factor (or gradient) for MLP tensors.

    Returns:
        ``out_dir``.

    Raises:
        ValueError: when the folders' tensor names or shapes differ (all mismatches are listed), or a factor is
            outside [0, 1].

    Example:
        >>> merge_models("ft-retrieval", "ft-sts", "merged", t_schedule=[0.2, 0.5, 0.8])  # doctest: +SKIP
    """
    _check_t("t", "merge_models", t)
    for param, value in (("t_schedule", t_schedule), ("t_attention", t_attention), ("t_mlp", t_mlp)):
        _check_schedule(param, value)
    a_root, b_root, out = Path(a_dir), Path(b_dir), Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise ParameterError(
            f"The 'out_dir' parameter of merge_models must be a new or empty folder. Got {str(out)!r} instead."
        )
    a_files = _weight_files(a_root, "a_dir")
    b_files = _weight_files(b_root, "b_dir")
    b_state: dict[str, torch.Tensor] = {}
    for path in b_files:
        b_state.update(_load_tensors(path))
    a_shards = {path: _load_tensors(path) for path in a_files}
    a_state = {name: tensor for shard in a_shards.values() for name, tensor in shard.items()}
    _check_same_tensors(a_state, b_state, b_root)

    layers = [i for i in (layer_index(n) for n in a_state) if i is not None]
    num_layers = max(layers) + 1 if layers else 0
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(a_root, out, dirs_exist_ok=True)
    for path, shard in a_shards.items():
        merged: dict[str, torch.Tensor] = {}
        for name, tensor in shard.items():
            if not tensor.is_floating_point():
                merged[name] = tensor.clone()
                continue
            factor = t_for_tensor(name, num_layers, t, t_schedule, t_attention, t_mlp)
            merged[name] = slerp(tensor, b_state[name], factor).contiguous()
        _save_tensors(merged, out / path.relative_to(a_root))
    logger.info("Merged %d tensors of %s and %s into %s", len(a_state), a_root, b_root, out)
    return out


def _check_t(param: str, owner: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise ParameterError(
            f"The {param!r} parameter of {owner} must be a number in [0, 1]. Got {value!r} instead."
        )


def _check_schedule(param: str, value: Schedule | None) -> None:
    if value is None:
        return
    values = [value] if isinstance(value, int | float) else list(value)
    ok = bool(values) and all(
        not isinstance(v, bool) and isinstance(v, int | float) and 0.0 <= v <= 1.0 for v in values
    )
    if not ok:
        raise ParameterError(
            f"The {param!r} parameter of merge_models must be a number or a non-empty list of numbers in [0, 1]. "
            f"Got {value!r} instead."
        )


def transformer_folder(root: Path) -> Path:
    """The folder holding the transformers weights: the sentence-transformers Transformer module's folder from
    ``modules.json``, else ``root`` itself."""
    import json

    modules = root / "modules.json"
    if modules.is_file():
        for module in json.loads(modules.read_text(encoding="utf-8")):
            folder = root / module.get("path", "")
            if (folder / "config.json").is_file():
                return folder
    return root


def _weight_files(root: Path, param: str) -> list[Path]:
    import json

    if not root.is_dir():
        raise ParameterError(
            f"The {param!r} parameter of merge_models must be a model folder. Got {str(root)!r} instead."
        )
    folder = transformer_folder(root)
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        names = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        return [folder / n for n in names]
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return [folder / name]
    raise ParameterError(
        f"The {param!r} parameter of merge_models must be a model folder with model.safetensors or "
        f"pytorch_model.bin. Got {str(root)!r} instead."
    )


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    import torch

    return dict(torch.load(path, map_location="cpu", weights_only=True))


def _save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(tensors, str(path), metadata={"format": "pt"})
        return
    import torch

    torch.save(tensors, path)


def _check_same_tensors(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor], b_root: Path) -> None:
    problems = [f"only in A: {n}" for n in sorted(set(a) - set(b))]
    problems += [f"only in B: {n}" for n in sorted(set(b) - set(a))]
    problems += [
        f"shape of {n}: A {tuple(a[n].shape)}, B {tuple(b[n].shape)}"
        for n in sorted(set(a) & set(b))
        if a[n].shape != b[n].shape
    ]
    if problems:
        shown = "; ".join(problems[:20]) + (
            f"; … and {len(problems) - 20} more" if len(problems) > 20 else ""
        )
        raise ParameterError(
            "The 'b_dir' parameter of merge_models must be a model with A's tensor names and shapes. "
            f"Got {str(b_root)!r} instead, with {len(problems)} mismatches: {shown}."
        )
