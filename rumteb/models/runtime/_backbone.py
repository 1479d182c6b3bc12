"""The transformer forward on packed sequences, and pooling in fp32.

Tokens of a batch travel as one ``[tokens, hidden]`` matrix (no padding), with per-sequence position ids, so every
linear layer (nearly all the FLOPs) runs on real tokens only. Attention is the one step that needs sequence
boundaries:

- ``varlen``: ``torch.nn.attention.varlen.varlen_attn`` (flash attention on packed sequences; CUDA, fp16/bf16);
- ``grouped``: batches are sorted by length, so a batch is a few runs of equal-length sequences; each run is one
  SDPA call on a plain ``[sequences, heads, length, head_dim]`` view: no padding, no mask (CPU, and any dtype).

BERT, RoBERTa, XLM-R and CamemBERT (absolute positions, encoder-only) run this way, straight from the transformers
module's own weights. Any other architecture runs the transformers module on padded batches (same pooling).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from rumteb.models.loading import DenseSpec, position_offset
from rumteb.models.runtime._int8 import int8_linear, int8_weight

logger = logging.getLogger(__name__)

PACKED_MODEL_TYPES = ("bert", "roberta", "xlm-roberta", "camembert")


def to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """Host array to ``device``; on CUDA through pinned memory with an asynchronous copy."""
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


@dataclass
class Layout:
    """Where each packed token sits. Built on the host from the batch's lengths, so it never waits for the device.

    ``groups`` are runs of consecutive sequences of equal length (batches are sorted by length, so a batch has a
    few): ``(first token, end token, sequences, length)``. ``scatter`` maps each token into the ``[B * max_len]``
    padded view used by pooling and by the padded fallback.
    """

    lengths: torch.Tensor  # [B] int64
    scatter: torch.Tensor  # [T] int64
    mask: torch.Tensor  # [B, max_len] bool: real tokens
    cu_seqlens: torch.Tensor  # [B + 1] int32
    max_len: int
    groups: list[tuple[int, int, int, int]]

    @classmethod
    def build(cls, lengths: np.ndarray, device: torch.device) -> Layout:
        lengths = np.asarray(lengths, dtype=np.int64)
        batch = int(lengths.size)
        max_len = int(lengths.max(initial=0))
        cu = np.zeros(batch + 1, dtype=np.int64)
        np.cumsum(lengths, out=cu[1:])
        segment = np.repeat(np.arange(batch, dtype=np.int64), lengths)
        position = np.arange(int(cu[-1]), dtype=np.int64) - np.repeat(cu[:-1], lengths)
        mask = np.arange(max_len)[None, :] < lengths[:, None]
        change = np.flatnonzero(np.diff(lengths)) + 1
        bounds = [0, *change.tolist(), batch]
        groups = [(int(cu[a]), int(cu[b]), b - a, int(lengths[a])) for a, b in itertools.pairwise(bounds)]

        def put(array: np.ndarray) -> torch.Tensor:
            return to_device(array, device)

        return cls(
            lengths=put(lengths),
            scatter=put(segment * max_len + position),
            mask=put(mask),
            cu_seqlens=put(cu.astype(np.int32)),
            max_len=max_len,
            groups=groups,
        )

    @property
    def tokens(self) -> int:
        """The real tokens of the batch (hidden states may carry padding rows after them: `bucket_rows`)."""
        return int(self.scatter.numel())

    def positions(self) -> torch.Tensor:
        """Position of each token inside its sequence, ``[T]``."""
        return torch.remainder(self.scatter, max(self.max_len, 1))

    def padded(self, packed: torch.Tensor) -> torch.Tensor:
        """``[T, ...]`` -> ``[B, max_len, ...]``, zeros at padding."""
        batch = int(self.lengths.numel())
        out = packed.new_zeros((batch * self.max_len, *packed.shape[1:]))
        out.index_copy_(0, self.scatter, packed)
        return out.view(batch, self.max_len, *packed.shape[1:])


def _grouped_attention(qkv: torch.Tensor, layout: Layout, heads: int, scale: float) -> torch.Tensor:
    """SDPA per run of equal-length sequences: no padding, no mask."""
    out = qkv.new_empty(qkv.shape[0], qkv.shape[1] // 3)
    out[layout.tokens :].zero_()  # rows past the real tokens (bucket padding)
    for start, end, count, length in layout.groups:
        q, k, v = qkv[start:end].view(count, length, 3, heads, -1).permute(2, 0, 3, 1, 4)
        o = F.scaled_dot_product_attention(q, k, v, scale=scale)
        out[start:end].view(count, length, heads, -1).copy_(o.transpose(1, 2))
    return out


def _varlen_attention(qkv: torch.Tensor, layout: Layout, heads: int, scale: float) -> torch.Tensor:
    """Flash attention on packed sequences (``torch.nn.attention.varlen``; CUDA, fp16/bf16)."""
    from torch.nn.attention.varlen import varlen_attn

    tokens = layout.tokens
    q, k, v = qkv[:tokens].view(tokens, 3, heads, -1).unbind(1)
    out = varlen_attn(
        q, k, v, layout.cu_seqlens, layout.cu_seqlens, layout.max_len, layout.max_len, scale=scale
    )
    assert isinstance(out, torch.Tensor)
    out = out.reshape(tokens, -1)
    if qkv.shape[0] > tokens:  # zero rows past the real tokens (bucket padding)
        out = F.pad(out, (0, 0, 0, qkv.shape[0] - tokens))
    return out


ATTENTION = {"grouped": _grouped_attention, "varlen": _varlen_attention}


_FUSABLE_ACTIVATIONS = {
    "gelu": ("gelu", "none"),
    "gelu_new": ("gelu", "tanh"),
    "gelu_pytorch_tanh": ("gelu", "tanh"),
}


def _onednn_available() -> bool:
    mkldnn = getattr(torch.ops, "mkldnn", None)
    return (
        torch.backends.mkldnn.is_available()
        and mkldnn is not None
        and hasattr(mkldnn, "_linear_pointwise")
        and hasattr(mkldnn, "_reorder_linear_weight")
    )


class Linear:
    """``activation(x @ W.T + b) [+ residual]``.

    On CPU (bf16 and fp32) it uses oneDNN's fused linear (the ops torch.compile emits on CPU): weights packed once,
    bias, GELU and the residual add applied to the fp32 accumulator before rounding. oneDNN builds and caches a
    primitive per input shape, so callers keep the row counts few (`bucket_rows`). With ``int8`` (CPU): weights in
    int8 per output channel, quantized once; activations quantized per token on each call (`rumteb.models.runtime._int8`);
    fp32 out. Elsewhere: ``F.linear`` and separate ops. If the fused op is unavailable or fails, it falls back for good.
    """

    def __init__(
        self,
        weight: torch.Tensor,
        bias: torch.Tensor,
        activation: Any = None,
        act_name: str | None = None,
        int8: bool = False,
        scratch: list[torch.Tensor] | None = None,
    ):
        """``scratch``: the int8 input buffer, shared by the layers of one model (default: this layer's own)."""
        self.weight, self.bias, self.activation = weight, bias, activation
        self.fused_act = _FUSABLE_ACTIVATIONS.get(act_name or "") if activation is not None else ("none", "")
        self.packed: torch.Tensor | None = None
        self.int8 = int8_weight(weight) if int8 else None
        self._buffer: list[torch.Tensor] = scratch if scratch is not None else []
        if (
            weight.device.type == "cpu"
            and weight.dtype in (torch.bfloat16, torch.float32)
            and not int8
            and _onednn_available()
        ):
            try:
                self.packed = torch.ops.mkldnn._reorder_linear_weight(weight, None)
            except RuntimeError as err:
                logger.info("oneDNN weight packing unavailable (%s); using F.linear", err)

    def __call__(self, x: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        if self.int8 is not None:
            y = int8_linear(x, self.int8, self.bias, self._buffer)
            if self.activation is not None:
                if self.fused_act and self.fused_act[0] == "gelu":
                    y = torch.ops.aten.gelu_(y, approximate=self.fused_act[1])  # in place: no new buffer
                else:
                    y = self.activation(y)
            return y if residual is None else y.add_(residual)
        if self.packed is not None and (residual is None or self.activation is None) and self.fused_act:
            try:
                if residual is not None:
                    return torch.ops.mkldnn._linear_pointwise.binary(
                        x, residual, self.packed, self.bias, "add"
                    )
                attr, algorithm = self.fused_act
                return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, attr, [], algorithm)
            except RuntimeError as err:
                logger.warning("oneDNN fused linear failed (%s); using F.linear from now on", err)
                self.packed = None
        y = F.linear(x, self.weight, self.bias)
        if self.activation is not None:
            y = self.activation(y)
        return y if residual is None else y + residual


def bucket_rows(tokens: int, token_budget: int) -> int:
    """``tokens`` rounded up to a multiple of ``token_budget / 32`` (at least 64): the row count the fused linear
    layers run on. A run then meets at most ~33 shapes per layer, so oneDNN's per-shape primitives stay few
    (with a new token count per batch, a 200k-document run grew by ~450 MiB and ran slower), for at most 1/32 of a
    full batch in padding rows.
    """
    granule = max(64, token_budget // 32)
    return -(-tokens // granule) * granule


class PackedEncoder:
    """A BERT-family encoder run on packed tokens, from a transformers module's weights (QKV fused)."""

    def __init__(
        self,
        hf_model: Any,
        dtype: torch.dtype,
        attention: str,
        int8: bool = False,
        *,
        token_budget: int,
    ) -> None:
        """``int8``: the linear layers in dynamic int8 (``dtype`` fp32 for the rest; CPU). ``token_budget``: the
        batches' token budget, which sets the row buckets of the fused CPU path (`bucket_rows`)."""
        config = hf_model.config
        self.token_budget = token_budget
        scratch: list[torch.Tensor] = []  # int8's input buffer, shared by all layers (used one at a time)
        emb = hf_model.embeddings
        self.heads = int(config.num_attention_heads)
        self.hidden = int(config.hidden_size)
        self.scale = (self.hidden // self.heads) ** -0.5
        self.offset = position_offset(config)
        self.attention = attention
        act_name = config.hidden_act if isinstance(config.hidden_act, str) else None

        def cast(t: torch.Tensor) -> torch.Tensor:
            return t.detach().to(dtype).contiguous()

        def norm(module: Any) -> tuple[torch.Tensor, torch.Tensor, float]:
            return cast(module.weight), cast(module.bias), float(module.eps)

        self.word = cast(emb.word_embeddings.weight)
        # token type 0 for every token, folded into the position table once
        self.position = cast(
            emb.position_embeddings.weight.float() + emb.token_type_embeddings.weight[0].float()
        )
        self.embed_norm = norm(emb.LayerNorm)
        self.layers = []
        for layer in hf_model.encoder.layer:
            att = layer.attention.self
            qkv_w = cast(torch.cat([att.query.weight, att.key.weight, att.value.weight]))
            qkv_b = cast(torch.cat([att.query.bias, att.key.bias, att.value.bias]))
            out, mid, last = layer.attention.output, layer.intermediate, layer.output
            self.layers.append(
                (
                    Linear(qkv_w, qkv_b, int8=int8, scratch=scratch),
                    Linear(cast(out.dense.weight), cast(out.dense.bias), int8=int8, scratch=scratch),
                    norm(out.LayerNorm),
                    Linear(
                        cast(mid.dense.weight),
                        cast(mid.dense.bias),
                        mid.intermediate_act_fn,
                        act_name,
                        int8,
                        scratch,
                    ),
                    Linear(cast(last.dense.weight), cast(last.dense.bias), int8=int8, scratch=scratch),
                    norm(last.LayerNorm),
                )
            )

    @staticmethod
    def supports(hf_model: Any) -> bool:
        config = hf_model.config
        return (
            config.model_type in PACKED_MODEL_TYPES
            and getattr(config, "position_embedding_type", "absolute") in (None, "absolute")
            and not getattr(config, "is_decoder", False)
            and hasattr(hf_model, "embeddings")
            and hasattr(hf_model, "encoder")
        )

    @property
    def fused(self) -> bool:
        """Whether the linear layers run oneDNN's fused op (CPU), which wants few distinct row counts."""
        return any(layer[0].packed is not None for layer in self.layers)

    def __call__(self, ids: torch.Tensor, layout: Layout) -> torch.Tensor:
        """Last hidden states ``[tokens, hidden]`` of packed ``ids``.

        On the fused path the hidden states carry zero rows up to `bucket_rows`: linear layers and LayerNorm treat
        rows apart and attention reads only the real tokens, so the padding never reaches them.
        """
        attend = ATTENTION[self.attention]
        tokens = int(ids.shape[0])
        h = F.embedding(ids, self.word) + F.embedding(layout.positions() + self.offset, self.position)
        if self.fused:
            h = F.pad(h, (0, 0, 0, bucket_rows(tokens, self.token_budget) - tokens))
        h = F.layer_norm(h, (self.hidden,), *self.embed_norm)
        for qkv, proj, norm1, up, down, norm2 in self.layers:
            a = attend(qkv(h), layout, self.heads, self.scale)
            h = F.layer_norm(proj(a, residual=h), (self.hidden,), *norm1)
            h = F.layer_norm(down(up(h), residual=h), (self.hidden,), *norm2)
        return h[:tokens]


class PaddedEncoder:
    """Any transformers encoder, run on padded batches; returns the packed hidden states of real tokens."""

    def __init__(self, hf_model: Any) -> None:
        self.model = hf_model
        pad = getattr(hf_model.config, "pad_token_id", None)
        self.pad_id = int(pad) if pad is not None else 0

    def __call__(self, ids: torch.Tensor, layout: Layout) -> torch.Tensor:
        batch, longest = int(layout.lengths.numel()), layout.max_len
        padded = ids.new_full((batch * longest,), self.pad_id)
        padded[layout.scatter] = ids
        out = self.model(input_ids=padded.view(batch, longest), attention_mask=layout.mask.long())
        hidden = out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]
        return hidden.reshape(batch * longest, -1).index_select(0, layout.scatter)


def pool(
    hidden: torch.Tensor, layout: Layout, modes: tuple[str, ...], prompt_length: int | None
) -> torch.Tensor:
    """Sentence vectors ``[B, hidden * len(modes)]`` in fp32, computed as sentence-transformers' Pooling does on
    the padded view (same masks, same reductions).

    With ``prompt_length`` (a Pooling with ``include_prompt=False``), the first ``prompt_length`` tokens of every
    sequence are left out of the pooled tokens.
    """
    h = layout.padded(hidden.float())  # [B, L, H]
    mask = layout.mask
    if prompt_length:
        mask = mask & (torch.arange(layout.max_len, device=mask.device) >= prompt_length)[None, :]
    weights = mask.unsqueeze(-1).float()
    out = []
    for mode in modes:
        if mode == "cls":
            first = mask.int().argmax(dim=1)  # sentence-transformers: the first pooled token
            out.append(h[torch.arange(h.shape[0], device=h.device), first])
        elif mode == "lasttoken":
            out.append(h[torch.arange(h.shape[0], device=h.device), layout.lengths - 1])
        elif mode in ("mean", "mean_sqrt_len_tokens"):
            counts = weights.sum(dim=1).clamp(min=1e-9)
            out.append((h * weights).sum(dim=1) / (counts if mode == "mean" else counts.sqrt()))
        elif mode == "max":
            out.append(h.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(dim=1).values)
        elif mode == "weightedmean":
            w = (
                weights
                * torch.arange(1, layout.max_len + 1, device=h.device, dtype=torch.float32)[None, :, None]
            )
            out.append((h * w).sum(dim=1) / w.sum(dim=1).clamp(min=1e-9))
        else:  # validated at the boundary
            raise ValueError(f"Unknown pooling mode {mode!r}.")
    return out[0] if len(out) == 1 else torch.cat(out, dim=1)


_DENSE_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "identity": lambda x: x,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "gelu": F.gelu,
    "sigmoid": torch.sigmoid,
}


class Dense:
    """A sentence-transformers Dense module in fp32."""

    def __init__(self, spec: DenseSpec, device: torch.device) -> None:
        from pathlib import Path

        folder = Path(spec.path)
        if (folder / "model.safetensors").is_file():
            from safetensors.torch import load_file

            state = load_file(str(folder / "model.safetensors"))
        else:
            state = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
        self.weight = state["linear.weight"].float().to(device)
        bias = state.get("linear.bias")
        self.bias = None if bias is None else bias.float().to(device)
        self.activation = _DENSE_ACTIVATIONS[spec.activation]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(F.linear(x, self.weight, self.bias))
