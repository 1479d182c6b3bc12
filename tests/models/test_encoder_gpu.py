"""CUDA only (skipped without it): packed varlen attention, bf16, pinned copies, OOM back-off, several GPUs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from _helpers import russian_sentences

from rumteb.models import Encoder

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def texts(shared_data: Path) -> list[str]:
    return russian_sentences(shared_data, limit=400)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_cuda_auto_is_bf16_with_varlen_attention(minilm_path: Path, texts: list[str]) -> None:
    from sentence_transformers import SentenceTransformer

    encoder = Encoder(minilm_path, device="cuda")
    assert encoder.precision in ("bf16", "fp16")
    out = encoder.encode_texts(texts)
    assert encoder._backend.backbone.attention == "varlen"  # it did not fall back
    reference = SentenceTransformer(str(minilm_path), device="cpu").encode(texts)
    assert _cosines(out, reference).min() > 0.999
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_cuda_fp32_matches_cpu(tiny_model_path: Path, texts: list[str]) -> None:
    gpu = Encoder(tiny_model_path, device="cuda", precision="fp32").encode_texts(texts)
    cpu = Encoder(tiny_model_path, device="cpu", precision="fp32").encode_texts(texts)
    np.testing.assert_allclose(gpu, cpu, atol=1e-4)


def test_cuda_varlen_equals_grouped_sdpa(minilm_path: Path, texts: list[str]) -> None:
    encoder = Encoder(minilm_path, device="cuda", precision="bf16")
    varlen = encoder.encode_texts(texts)
    encoder.store.memory.clear()
    encoder._backend.backbone.attention = "grouped"
    grouped = encoder.encode_texts(texts)
    assert _cosines(varlen, grouped).min() > 0.999


def test_cuda_batch_size_and_order_invariance(tiny_model_path: Path, texts: list[str]) -> None:
    base = Encoder(tiny_model_path, device="cuda", precision="fp32").encode_texts(texts)
    other = Encoder(tiny_model_path, device="cuda", precision="fp32", max_tokens_per_batch=300)
    np.testing.assert_allclose(other.encode_texts(texts[::-1])[::-1], base, atol=1e-5)


def test_cuda_out_of_memory_backs_off(
    tiny_model_path: Path, texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = Encoder(tiny_model_path, device="cuda", precision="fp32", max_tokens_per_batch=8192)
    expected = encoder.encode_texts(texts)
    encoder.store.memory.clear()
    runtime = encoder._backend
    real = runtime.forward

    def limited(ids: np.ndarray, lengths: np.ndarray, prompt_length: int | None) -> torch.Tensor:
        if lengths.size * lengths.max() > 1000:
            raise torch.OutOfMemoryError("simulated")
        return real(ids, lengths, prompt_length)

    monkeypatch.setattr(runtime, "forward", limited)
    np.testing.assert_allclose(encoder.encode_texts(texts), expected, atol=1e-5)
    assert runtime.max_tokens <= 1000


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
def test_two_gpus_equal_one(minilm_path: Path, texts: list[str]) -> None:
    single = Encoder(minilm_path, device="cuda:0", precision="bf16").encode_texts(texts)
    with Encoder(minilm_path, device=["cuda:0", "cuda:1"], precision="bf16") as multi:
        assert np.array_equal(multi.encode_texts(texts), single)
