"""One model on one device: batches of token ids in, fp32 sentence vectors out.

Used in the main process (one device) and in each worker process (several devices). On CUDA, host buffers are
pinned and copies are asynchronous; results stay on the device until a whole call is done. On an out-of-memory
error the token budget is halved and the batch is split and retried.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
import torch.nn.functional as F

from rumteb.models.loading import ModelSpec
from rumteb.models.runtime._backbone import Dense, Layout, PackedEncoder, PaddedEncoder, pool, to_device
from rumteb.models.runtime._batching import Batch, Progress

logger = logging.getLogger(__name__)

#: the dtype of the weights and activations; int8 keeps fp32 outside its linear layers
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16, "int8": torch.float32}


def cpu_has_bf16_matrix_units() -> bool:
    """Whether this CPU has bf16 matrix units (Intel AMX), which make bf16 matmuls several times faster."""
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(probe()) if callable(probe) else False


def resolve_precision(precision: str, device: str) -> str:
    """``auto`` -> ``bf16`` on CUDA (with bf16 support) and on CPUs with bf16 matrix units, else ``fp32``."""
    if precision != "auto":
        return precision
    if device.startswith("cuda"):
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device == "cpu":
        return "bf16" if cpu_has_bf16_matrix_units() else "fp32"
    return "fp32"


class Runtime:
    """The model of ``spec`` on ``device`` in ``precision``, plus the encode loop with OOM back-off."""

    def __init__(self, spec: ModelSpec, device: str, precision: str, max_tokens: int) -> None:
        from transformers import AutoModel

        self.device = torch.device(device)
        self.dtype = DTYPES[precision]
        self.max_tokens = int(max_tokens)
        self.spec = spec
        hf_model = AutoModel.from_pretrained(
            spec.transformer_dir,
            dtype=self.dtype,
            trust_remote_code=spec.trust_remote_code,
            local_files_only=True,
        )
        hf_model.eval().to(self.device)
        self.backbone: PackedEncoder | PaddedEncoder
        if PackedEncoder.supports(hf_model):
            use_varlen = self.device.type == "cuda" and self.dtype in (torch.float16, torch.bfloat16)
            attention = "varlen" if use_varlen else "grouped"
            self.backbone = PackedEncoder(
                hf_model, self.dtype, attention, int8=precision == "int8", token_budget=self.max_tokens
            )
            del hf_model
        elif precision == "int8":
            raise ValueError(
                f"precision='int8' runs the packed BERT-family path only (bert, roberta, xlm-roberta, camembert); "
                f"{type(hf_model).__name__} runs on padded batches. Use precision='fp32' or 'bf16' for it."
            )
        else:
            logger.info("%s runs on padded batches (no packed implementation)", type(hf_model).__name__)
            self.backbone = PaddedEncoder(hf_model)
        self.dense = [Dense(d, self.device) for d in spec.dense]
        self.closed = False

    @torch.inference_mode()
    def forward(self, ids: np.ndarray, lengths: np.ndarray, prompt_length: int | None) -> torch.Tensor:
        """Sentence vectors ``[len(lengths), dim]`` fp32, on the device. Pooling and normalisation in fp32."""
        tokens = to_device(ids.astype(np.int64, copy=False), self.device)
        layout = Layout.build(lengths, self.device)
        try:
            hidden = self.backbone(tokens, layout)
        except RuntimeError as err:
            if not self._fall_back_from_varlen(err):
                raise
            hidden = self.backbone(tokens, layout)
        vectors = pool(
            hidden, layout, self.spec.pooling, prompt_length if not self.spec.include_prompt else None
        )
        for dense in self.dense:
            vectors = dense(vectors)
        if self.spec.normalize:
            vectors = F.normalize(vectors, p=2, dim=1)
        return vectors

    def _fall_back_from_varlen(self, err: RuntimeError) -> bool:
        if isinstance(err, torch.OutOfMemoryError):
            return False
        if isinstance(self.backbone, PackedEncoder) and self.backbone.attention == "varlen":
            logger.warning("varlen attention failed (%s); using SDPA per equal-length group from now on", err)
            self.backbone.attention = "grouped"
            return True
        return False

    def encode(self, ids: np.ndarray, lengths: np.ndarray, prompt_length: int | None) -> torch.Tensor:
        """As `forward`, but on CUDA out-of-memory: halve the token budget, split the batch, retry."""
        padded = int(lengths.size) * int(lengths.max(initial=0))
        if lengths.size > 1 and padded > self.max_tokens:
            return self._split(ids, lengths, prompt_length)
        try:
            return self.forward(ids, lengths, prompt_length)
        except torch.OutOfMemoryError:
            if lengths.size == 1:
                raise
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            self.max_tokens = max(1, min(self.max_tokens, padded) // 2)
            logger.warning("Out of memory on %s: token budget halved to %d", self.device, self.max_tokens)
            return self._split(ids, lengths, prompt_length)

    def _split(self, ids: np.ndarray, lengths: np.ndarray, prompt_length: int | None) -> torch.Tensor:
        half = lengths.size // 2
        cut = int(lengths[:half].sum())
        first = self.encode(ids[:cut], lengths[:half], prompt_length)
        second = self.encode(ids[cut:], lengths[half:], prompt_length)
        return torch.cat([first, second])

    def encode_many(
        self, batches: list[Batch], prompt_length: int | None, progress: Progress
    ) -> list[np.ndarray]:
        """Several batches (`rumteb.models.runtime.Backend`). On CUDA each result is copied into pinned host memory
        without waiting, so the host keeps queueing work; one synchronisation at the end."""
        if self.closed:
            raise RuntimeError("This encoder was closed: its model is released. Create a new one to encode.")
        outs = []
        for ids, lengths in batches:
            vectors = self.encode(ids, lengths, prompt_length)
            if self.device.type == "cuda":
                host = torch.empty(vectors.shape, dtype=vectors.dtype, pin_memory=True)
                outs.append(host.copy_(vectors, non_blocking=True))
            else:
                outs.append(vectors)
            progress(int(lengths.size))  # texts
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return [o.numpy() for o in outs]

    def close(self) -> None:
        """Release the model's weights (on CUDA, their device memory too); the runtime cannot encode afterwards."""
        if self.closed:
            return
        self.closed = True
        del self.backbone
        self.dense = []
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
