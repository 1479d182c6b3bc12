"""The opt-in ``precision="int8"`` of the packed forward (int8 linear layers, activations quantized per token), with
its quality report on the exact real slices.

The report evaluates all-MiniLM-L6-v2 in int8 on TERRa dev, RUParaPhraserSTS test and CEDRClassification test (EXACT
ruMTEB splits) and prints the main-score deltas against fp32 (`tests/evaluation/test_real_data.py`'s measured scores, which
rumteb's fp32 encoder reproduces to ~1e-6). int8's numerics are the same on every x86 CPU (7-bit activations: no
int16 saturation without VNNI), so one pass reports them. Runtime: ~35 s on 2 idle cores.
"""

from __future__ import annotations

from pathlib import Path

import _helpers
import mteb
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from real_mirror import build as build_real_mirror

import rumteb
from rumteb.models import Encoder
from rumteb.models.runtime import _backbone
from rumteb.models.runtime import _local as _runtime

#: all-MiniLM-L6-v2, fp32 (tests/evaluation/test_real_data.py's table)
FP32 = {"TERRa": 0.450325093, "RUParaPhraserSTS": 0.439328918, "CEDRClassification": 0.324760893}
MAX_DELTA = 0.005  # the bar for int8: every exact-slice main score within 0.005 of fp32


def _layer(seed: int, rows: int = 300, inner: int = 96, outer: int = 48) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, outer, generator=generator)
    w = torch.randn(inner, outer, generator=generator) * 0.1
    b = torch.randn(inner, generator=generator)
    return x, w, b


def test_int8_linear_is_close_to_fp32_and_per_token() -> None:
    x, w, b = _layer(1)
    exact = F.linear(x, w, b)
    int8 = _backbone.Linear(w, b, int8=True)
    assert int8.packed is None and int8.int8 is not None
    out = int8(x)
    error = float((out - exact).norm() / exact.norm())
    assert 0 < error < 0.02, error
    # a token's result does not depend on the other rows (per-token scales, a fixed quantization range)
    loud = torch.cat([x[:10], 1000 * x[10:]])
    torch.testing.assert_close(int8(loud)[:10], out[:10], atol=0, rtol=0)
    zeros = torch.zeros(3, x.shape[1])  # all-zero rows (the scale is clamped): just the bias
    torch.testing.assert_close(int8(zeros), b.expand(3, -1), atol=1e-6, rtol=0)


def test_int8_is_opt_in_and_cpu_only(
    tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from _helpers.models import tiny_hf_model

    for units in (False, True):  # auto never picks int8
        monkeypatch.setattr(_runtime, "cpu_has_bf16_matrix_units", lambda units=units: units)
        assert Encoder(tiny_model_path, device="cpu").precision in ("fp32", "bf16")
    with pytest.raises(ValueError, match=r"'int8', a CPU precision .* device is 'cuda'.*pass device='cpu'"):
        Encoder(tiny_model_path, device="cuda", precision="int8")
    folder = tiny_hf_model("distilbert", tmp_path / "distilbert", tiny_model_path)
    with pytest.raises(ValueError, match=r"precision='int8' runs the packed BERT-family path only"):
        Encoder(folder, device="cpu", precision="int8", pooling="cls")


def test_int8_embeddings_are_close_and_cached_apart(tiny_model_path: Path, tmp_path: Path) -> None:
    texts = _helpers.russian_sentences(_helpers.shared_data_dir(), 200)
    fp32 = Encoder(tiny_model_path, device="cpu", precision="fp32", cache_dir=tmp_path)
    int8 = Encoder(tiny_model_path, device="cpu", precision="int8", cache_dir=tmp_path)
    assert int8.namespace != fp32.namespace  # never served from fp32's cache, nor the other way round
    a, b = fp32.encode_texts(texts), int8.encode_texts(texts)
    assert b.dtype == np.float32 and b.shape == a.shape
    cosines = (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert float(cosines.min()) > 0.95 and not np.array_equal(a, b)  # close, and really int8


def test_int8_embedding_of_a_text_does_not_depend_on_its_batch(tiny_model_path: Path) -> None:
    texts = _helpers.russian_sentences(_helpers.shared_data_dir(), 300)
    big = Encoder(tiny_model_path, device="cpu", precision="int8", memory_cache_bytes=0)
    small = Encoder(
        tiny_model_path, device="cpu", precision="int8", memory_cache_bytes=0, max_tokens_per_batch=64
    )
    together = big.encode_texts(texts)
    np.testing.assert_array_equal(together, big.encode_texts(texts[::-1])[::-1])  # other batch-mates
    np.testing.assert_array_equal(together, small.encode_texts(texts))  # a few texts per batch
    np.testing.assert_array_equal(together[:1], big.encode_texts(texts[:1]))  # alone
    # one scratch buffer for the whole model (a buffer per layer would hold ~2 GB for a base-size model)
    linears = [part for layer in big._backend.backbone.layers for part in layer if hasattr(part, "int8")]
    assert len(linears) == 8 and len({id(linear._buffer) for linear in linears}) == 1


@pytest.fixture(scope="module")
def real_mirror(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    root = tmp_path_factory.mktemp("real-mirror")
    build_real_mirror(root, shared_data)
    return root


@pytest.mark.slow
def test_int8_quality_report_on_the_exact_slices(
    real_mirror: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    encoder = Encoder(_helpers.minilm_path(), device="cpu", precision="int8")
    with _helpers.one_thread():
        results = mteb.evaluate(
            encoder, rumteb.get_tasks(list(FP32), data_dir=real_mirror), cache=None, show_progress_bar=False
        )
    scores = {r.task_name: float(r.get_score()) for r in results.task_results}
    deltas = {name: scores[name] - FP32[name] for name in FP32}
    with capsys.disabled():
        print("\nint8 main score - fp32, all-MiniLM-L6-v2, exact slices:")
        for name, delta in deltas.items():
            print(f"  {name:20} {scores[name]:.5f}  {delta:+.5f}")
    assert all(abs(d) <= MAX_DELTA for d in deltas.values()), deltas
    assert any(d != 0 for d in deltas.values())  # int8 really ran
