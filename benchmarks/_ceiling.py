"""What the linear layers alone cost: the ceiling of any speed-up that keeps their GEMMs.

`linear_seconds` times one model's linear layers (QKV, attention output, FFN up and down, per layer) on random
weights of the model's shapes, at rows of the encoder's token budget, and scales the time to a run's real token
count. Everything else a forward does (attention, LayerNorm, GELU, embeddings, pooling, tokenization, and int8's
per-token scaling) counts as zero, and full-budget rows are the GEMMs' most efficient case, so the ratio
``seconds of (a) / linear_seconds`` bounds from above what an encoder built on these GEMM kernels can reach against
(a) on this machine.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def _best(run: Any, repeats: int = 3) -> float:
    run()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def linear_seconds(transformer_dir: Path, tokens: int, rows: int) -> dict[str, float]:
    """Seconds of the linear layers over ``tokens`` tokens, in calls of ``rows`` rows:

    - ``fp32``: rumteb's fp32 `Linear` (oneDNN's fused linear where available: the GEMM with its bias);
    - ``int8``: `rumteb.models.runtime._int8.int8_gemm` (fbgemm's int8 GEMM with its own input quantization and fp32
      output) on input already scaled to [-1, 1]: rumteb's int8 linear without its per-token scaling.
    """
    import torch
    from transformers import AutoConfig

    from rumteb.models.runtime._backbone import Linear
    from rumteb.models.runtime._int8 import int8_gemm, int8_weight

    config = AutoConfig.from_pretrained(str(transformer_dir))
    d, ffn, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    generator = torch.Generator().manual_seed(0)
    per_call = {"fp32": 0.0, "int8": 0.0}
    for width_in, width_out in ((d, 3 * d), (d, d), (d, ffn), (ffn, d)):
        x = torch.randn(rows, width_in, generator=generator)
        weight = torch.randn(width_out, width_in, generator=generator) / width_in**0.5
        bias = torch.randn(width_out, generator=generator)
        fp32 = Linear(weight, bias)
        per_call["fp32"] += _best(lambda fp32=fp32, x=x: fp32(x))
        unit = x / x.abs().amax(dim=1, keepdim=True)
        packed = int8_weight(weight)
        per_call["int8"] += _best(lambda unit=unit, packed=packed: int8_gemm(unit, packed))
    return {name: seconds * layers * tokens / rows for name, seconds in per_call.items()}
