"""int8 linear layers for ``precision="int8"`` (CPU): int8 weights per output channel, activations quantized per
token, fbgemm's int8 GEMM through torch's quantized ops (`rumteb.models.runtime._backbone.Linear` calls them)."""

from __future__ import annotations

from typing import Any

import torch


def int8_weight(weight: torch.Tensor) -> Any:
    """fp32 weight -> int8 per output channel (symmetric, -127..127), packed for ``quantized.linear_dynamic``."""
    import warnings

    w = weight.float()
    scales = (w.abs().amax(dim=1) / 127.0).clamp(min=1e-12).double()
    zeros = torch.zeros(w.shape[0], dtype=torch.long)
    with warnings.catch_warnings():
        # torch 2.13 announces the removal of quantized tensors (docs: precision int8 names the way forward)
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*")
        qweight = torch.quantize_per_channel(w, scales, zeros, 0, torch.qint8)
    return torch.ops.quantized.linear_prepack(qweight, None)


def int8_linear(x: torch.Tensor, packed: Any, bias: torch.Tensor, buffer: list[torch.Tensor]) -> torch.Tensor:
    """``x @ W.T + b`` with int8 weights and int8 activations quantized per token (row).

    fbgemm's dynamic linear quantizes its input with one scale for the whole tensor, so a token's result would
    depend on the other texts in the batch. Each row is divided by its largest magnitude first, and one extra row
    holding +1 and -1 fixes the tensor's range at [-1, 1]: the quantization step is then the same for every batch,
    each token is quantized on its own scale, and the row scale is multiplied back after the int32 product.

    Activations use 7 bits (``reduce_range``): CPUs without VNNI (AVX2-only AMD, older Intel) add uint8 x int8
    products in pairs with int16 saturation, which 255 x 127 x 2 overflows and 127 x 127 x 2 does not. So the result
    is the same on every x86 CPU, and per-token scales make the lost bit cheap (docs: int8 quality report).

    ``buffer`` holds the scaled input between calls (a fresh multi-MB tensor per call costs page faults); one flat
    buffer serves every linear layer of a model, so it holds one input, the largest.
    """
    rows, width = x.shape
    # the largest magnitude per row, without a temporary |x| (measured: the fastest of abs().amax, aminmax, norm)
    scale = torch.maximum(x.amax(dim=1, keepdim=True), x.amin(dim=1, keepdim=True).neg_()).clamp_(min=1e-12)
    size = (rows + 1) * width
    if not buffer or buffer[0].numel() < size:
        buffer[:] = [x.new_empty(size)]
    unit = buffer[0][:size].view(rows + 1, width)
    torch.div(x, scale, out=unit[:rows])
    unit[rows].zero_()
    unit[rows, 0], unit[rows, 1] = 1.0, -1.0
    y = int8_gemm(unit, packed)[:rows]
    return torch.addcmul(bias, y, scale, out=y)


def int8_gemm(unit: torch.Tensor, packed: Any) -> torch.Tensor:
    """The GEMM of `int8_linear` alone: ``unit`` (rows in [-1, 1]) quantized to 7 bits by fbgemm, times the int8
    weights, fp32 out, no bias (``benchmarks/encode_throughput.py`` times it to show the GEMM's share)."""
    return torch.ops.quantized.linear_dynamic(unit, packed, True)
