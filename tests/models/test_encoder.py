"""rumteb's Encoder on CPU: parity with sentence-transformers, invariants, loading, pooling, precision, back-off.

Most tests use the tiny random BERT (real Russian WordPiece); parity also runs on real all-MiniLM-L6-v2 weights.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from _helpers import russian_sentences
from _helpers.models import tiny_hf_model

from rumteb.models import Encoder


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def _st(path: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu")


@pytest.fixture(scope="module")
def texts(shared_data: Path) -> list[str]:
    """Real Russian sentences, plus edge cases: duplicates, an empty string, a text longer than max length."""
    real = russian_sentences(shared_data, limit=160)
    return [*real, real[3], "", " ".join(real[:40]), real[3]]


# --------------------------------------------------------------------------------------------------------------
# Parity with sentence-transformers (fp32)
# --------------------------------------------------------------------------------------------------------------


def test_matches_sentence_transformers_tiny(tiny_model_path: Path, texts: list[str]) -> None:
    ours = Encoder(tiny_model_path, device="cpu", precision="fp32").encode_texts(texts)
    reference = _st(tiny_model_path).encode(texts, batch_size=32)
    assert ours.dtype == np.float32 and ours.shape == reference.shape
    assert _cosines(ours, reference).min() > 0.9999
    np.testing.assert_allclose(ours, reference, atol=2e-5)


def test_matches_sentence_transformers_minilm(minilm_path: Path, texts: list[str]) -> None:
    encoder = Encoder(minilm_path, device="cpu", precision="fp32")
    assert encoder.normalize and encoder.spec.pooling == ("mean",) and encoder.max_length == 256
    assert encoder._backend.backbone.fused  # the default CPU path: oneDNN's fused fp32 linear
    ours = encoder.encode_texts(texts)
    reference = _st(minilm_path).encode(texts, batch_size=32)
    assert _cosines(ours, reference).min() > 0.9999
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_prompt_is_prepended_like_sentence_transformers(tiny_model_path: Path, texts: list[str]) -> None:
    ours = Encoder(tiny_model_path, device="cpu", precision="fp32").encode_texts(
        texts[:20], prompt="запрос: "
    )
    reference = _st(tiny_model_path).encode(texts[:20], prompt="запрос: ")
    assert _cosines(ours, reference).min() > 0.9999


def _with_pooling(folder: Path, **config: Any) -> Path:
    """A copy of the model folder with other Pooling settings."""
    copy = folder.parent / f"{folder.name}-pooling"
    shutil.copytree(folder, copy)
    path = copy / "1_Pooling" / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **config}))
    return copy


@pytest.mark.parametrize(
    "pooling", ["cls", "max", "mean_sqrt_len_tokens", "weightedmean", "lasttoken", ["cls", "mean"]]
)
def test_every_pooling_mode_matches_sentence_transformers(
    tiny_model_path: Path, texts: list[str], pooling: Any
) -> None:
    folder = _with_pooling(tiny_model_path, pooling_mode=pooling)
    ours = Encoder(folder, device="cpu", precision="fp32").encode_texts(texts[:40])
    reference = _st(folder).encode(texts[:40])
    assert ours.shape == reference.shape
    assert _cosines(ours, reference).min() > 0.9999


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_prompt_excluded_from_pooling_like_sentence_transformers(
    tiny_model_path: Path, texts: list[str], pooling: str
) -> None:
    folder = _with_pooling(tiny_model_path, pooling_mode=pooling, include_prompt=False)
    encoder = Encoder(folder, device="cpu", precision="fp32")
    ours = encoder.encode_texts(texts[:30], prompt="поиск документа: ")
    reference = _st(folder).encode(texts[:30], prompt="поиск документа: ")
    assert _cosines(ours, reference).min() > 0.9999
    with_prompt = Encoder(tiny_model_path, device="cpu", precision="fp32", pooling=pooling)
    assert not np.allclose(ours, with_prompt.encode_texts(texts[:30], prompt="поиск документа: "))


def test_legacy_pooling_config_and_dense_layer(minilm_path: Path, tmp_path: Path, texts: list[str]) -> None:
    """MiniLM's old-style pooling keys, plus a Dense module (tanh) inserted before Normalize."""
    from sentence_transformers import SentenceTransformer, models

    st = SentenceTransformer(str(minilm_path), device="cpu")
    torch.manual_seed(0)
    dense = models.Dense(384, 128, activation_function=torch.nn.Tanh())
    model = SentenceTransformer(modules=[st[0], st[1], dense, models.Normalize()], device="cpu")
    model.save(str(tmp_path / "dense"))
    ours = Encoder(tmp_path / "dense", device="cpu", precision="fp32").encode_texts(texts[:30])
    assert ours.shape == (30, 128)
    assert _cosines(ours, model.encode(texts[:30])).min() > 0.9999


# --------------------------------------------------------------------------------------------------------------
# Invariants
# --------------------------------------------------------------------------------------------------------------


def test_output_independent_of_batch_size_and_order(tiny_model_path: Path, texts: list[str]) -> None:
    base = Encoder(tiny_model_path, device="cpu", precision="fp32").encode_texts(texts)
    order = np.random.default_rng(0).permutation(len(texts))
    for budget in (1, 64, 500, 100_000):
        encoder = Encoder(tiny_model_path, device="cpu", precision="fp32", max_tokens_per_batch=budget)
        shuffled = encoder.encode_texts([texts[i] for i in order])
        np.testing.assert_allclose(shuffled[np.argsort(order)], base, atol=1e-6, rtol=0)
    # same budget, other order: the plan depends on the set of texts only, so the output is bit-identical
    again = Encoder(tiny_model_path, device="cpu", precision="fp32").encode_texts([texts[i] for i in order])
    assert np.array_equal(again[np.argsort(order)], base)


def test_order_and_batch_size_invariance_minilm(minilm_path: Path, texts: list[str]) -> None:
    base = Encoder(minilm_path, device="cpu", precision="fp32").encode_texts(texts)
    reverse = Encoder(minilm_path, device="cpu", precision="fp32", max_tokens_per_batch=300).encode_texts(
        texts[::-1]
    )
    np.testing.assert_allclose(reverse[::-1], base, atol=1e-6, rtol=0)


def test_duplicates_are_encoded_once_and_empty_input(tiny_model_path: Path, texts: list[str]) -> None:
    encoder = Encoder(tiny_model_path, device="cpu", precision="fp32")
    out = encoder.encode_texts(texts)
    assert encoder.stats["encoded"] == len(set(texts))
    assert np.array_equal(out[3], out[-1]) and np.array_equal(out[3], out[-4])
    again = encoder.encode_texts(texts[:10])
    assert encoder.stats["encoded"] == len(set(texts)) and np.array_equal(again, out[:10])
    assert encoder.encode_texts([]).shape == (0, 64)
    prompted = encoder.encode_texts(texts[:10], prompt="query: ")
    assert encoder.stats["encoded"] == len(set(texts)) + 10  # the prompt is part of the key
    assert not np.allclose(prompted, out[:10])


# --------------------------------------------------------------------------------------------------------------
# Architectures: our packed forward against the transformers module itself
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bert", "roberta", "xlm-roberta", "distilbert"])
def test_forward_matches_transformers(
    tiny_model_path: Path, tmp_path: Path, texts: list[str], kind: str
) -> None:
    """RoBERTa-style position ids (from padding_idx + 1), GELU variants, and the padded fallback (DistilBERT)."""
    from transformers import AutoModel

    folder = tiny_hf_model(kind, tmp_path / kind, tiny_model_path)
    encoder = Encoder(folder, device="cpu", precision="fp32", pooling="cls", normalize=False)
    assert type(encoder._backend.backbone).__name__ == (
        "PaddedEncoder" if kind == "distilbert" else "PackedEncoder"
    )
    assert encoder.max_length == 128  # the tokenizer's limit, inside the position table
    sample = texts[:24]
    ours = encoder.encode_texts(sample)
    hf = AutoModel.from_pretrained(str(folder)).eval()
    batch = encoder.tokenizer(sample, padding=True, truncation=True, max_length=128, return_tensors="pt")
    with torch.inference_mode():
        cls = hf(**batch).last_hidden_state[:, 0].numpy()
    np.testing.assert_allclose(ours, cls, atol=1e-5)


def test_varlen_attention_layout_on_cpu(
    tiny_model_path: Path, texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CUDA path's packed layout ([tokens, heads, dim] + cu_seqlens) with a per-sequence reference kernel."""
    import torch.nn.attention.varlen as varlen
    import torch.nn.functional as F

    calls = []

    def reference(q, k, v, cu_q, cu_k, max_q, max_k, *, scale=None, **_: Any):  # type: ignore[no-untyped-def]
        calls.append((q.shape, int(cu_q[-1]), max_q))
        out = torch.empty_like(q)
        bounds = cu_q.tolist()
        for start, end in itertools.pairwise(bounds):
            o = F.scaled_dot_product_attention(
                q[start:end].transpose(0, 1),
                k[start:end].transpose(0, 1),
                v[start:end].transpose(0, 1),
                scale=scale,
            )
            out[start:end] = o.transpose(0, 1)
        return out

    monkeypatch.setattr(varlen, "varlen_attn", reference)
    encoder = Encoder(tiny_model_path, device="cpu", precision="fp32")
    grouped = encoder.encode_texts(texts[:50])
    encoder.store.memory.clear()
    encoder._backend.backbone.attention = "varlen"
    packed = encoder.encode_texts(texts[:50])
    assert calls and all(shape[0] == total for shape, total, _ in calls)
    np.testing.assert_allclose(packed, grouped, atol=1e-6)


# --------------------------------------------------------------------------------------------------------------
# Precision
# --------------------------------------------------------------------------------------------------------------


def test_auto_precision_follows_the_hardware(tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rumteb.models.runtime import _local as _runtime

    monkeypatch.setattr(_runtime, "cpu_has_bf16_matrix_units", lambda: False)
    assert Encoder(tiny_model_path, device="cpu").precision == "fp32"
    monkeypatch.setattr(_runtime, "cpu_has_bf16_matrix_units", lambda: True)
    assert Encoder(tiny_model_path, device="cpu").precision == "bf16"


def test_bf16_pools_and_normalises_in_fp32(minilm_path: Path, texts: list[str]) -> None:
    encoder = Encoder(minilm_path, device="cpu", precision="bf16")
    out = encoder.encode_texts(texts)
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)  # fp32 normalisation
    fp32 = Encoder(minilm_path, device="cpu", precision="fp32").encode_texts(texts)
    assert _cosines(out, fp32).min() > 0.999


def test_bf16_fused_linear_meets_few_row_counts(
    minilm_path: Path, texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """oneDNN builds and caches a primitive per input shape (a 200k-document bf16 run grew by 661 MiB with a new
    token count per batch): the fused path pads the rows up to a multiple of budget / 32, and the padding changes
    no embedding."""
    from rumteb.models.runtime import _backbone

    encoder = Encoder(minilm_path, device="cpu", precision="bf16", max_tokens_per_batch=2048)
    assert encoder._backend.backbone.fused  # x86 torch builds carry oneDNN
    rows: list[int] = []
    real_call = _backbone.Linear.__call__

    def spy(self: Any, x: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        rows.append(int(x.shape[0]))
        return real_call(self, x, residual)

    tokens = set()
    real_forward = encoder._backend.forward

    def forward(ids: np.ndarray, lengths: np.ndarray, prompt_length: int | None) -> torch.Tensor:
        tokens.add(int(lengths.sum()))
        return real_forward(ids, lengths, prompt_length)

    monkeypatch.setattr(_backbone.Linear, "__call__", spy)
    monkeypatch.setattr(encoder._backend, "forward", forward)
    bucketed = []
    for size in range(1, 120, 7):
        bucketed.append(encoder.encode_texts(texts[size : 2 * size]))
        encoder.store.memory.clear()
    assert all(count % 64 == 0 for count in rows)  # granule max(64, 2048 // 32)
    assert len(set(rows)) < len(tokens)
    monkeypatch.setattr(_backbone, "bucket_rows", lambda count, budget: count)
    rows.clear()
    for size, expected in zip(range(1, 120, 7), bucketed, strict=True):
        np.testing.assert_allclose(encoder.encode_texts(texts[size : 2 * size]), expected, atol=1e-6)
        encoder.store.memory.clear()
    assert any(count % 64 for count in rows)  # the reference really ran unpadded


# --------------------------------------------------------------------------------------------------------------
# Out of memory: halve the budget, split, retry
# --------------------------------------------------------------------------------------------------------------


def test_out_of_memory_halves_the_budget_and_retries(
    tiny_model_path: Path, texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = Encoder(tiny_model_path, device="cpu", precision="fp32", max_tokens_per_batch=4096)
    expected = Encoder(tiny_model_path, device="cpu", precision="fp32").encode_texts(texts)
    runtime = encoder._backend
    real_forward = runtime.forward
    sizes = []

    def limited(ids: np.ndarray, lengths: np.ndarray, prompt_length: int | None) -> torch.Tensor:
        sizes.append(int(lengths.size) * int(lengths.max()))
        if sizes[-1] > 700:
            raise torch.OutOfMemoryError("simulated")
        return real_forward(ids, lengths, prompt_length)

    monkeypatch.setattr(runtime, "forward", limited)
    out = encoder.encode_texts(texts)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert runtime.max_tokens <= 700 < 4096
    assert max(sizes) > 700  # it did fail first


# --------------------------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------------------------


def test_transformers_folder_needs_pooling(tiny_model_path: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tiny_model_path / name, plain / name)
    with pytest.raises(ValueError, match="'pooling' parameter of Encoder is required"):
        Encoder(plain, device="cpu")
    encoder = Encoder(plain, device="cpu", precision="fp32", pooling="mean")
    assert encoder.normalize  # plain transformers folders: normalised unless asked otherwise
    reference = _st(tiny_model_path).encode(["Привет, мир"])
    np.testing.assert_allclose(
        encoder.encode_texts(["Привет, мир"]), reference / np.linalg.norm(reference), atol=1e-5
    )


def test_hub_id_loads_from_the_offline_cache(
    tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--org--tiny"
    shutil.copytree(tiny_model_path, repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    encoder = Encoder("org/tiny", device="cpu", precision="fp32")
    assert (encoder.mteb_model_meta.name, encoder.mteb_model_meta.revision) == ("org/tiny", revision)
    assert encoder.encode_texts(["тест"]).shape == (1, 64)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Encoder("./no/such/folder", device="cpu")


def test_local_folder_metadata(tiny_model_path: Path) -> None:
    from rumteb.models.loading._fingerprint import weights_fingerprint

    meta = Encoder(tiny_model_path, device="cpu").mteb_model_meta
    assert meta.name == "local/tiny-bert"
    assert meta.revision == weights_fingerprint(tiny_model_path)
    assert meta.embed_dim == 64 and meta.max_tokens == 128
    assert meta.similarity_fn_name.value == "cosine"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"precision": "fp8"}, "'precision' parameter of Encoder must be one of"),
        ({"pooling": "avg"}, "'pooling' parameter of Encoder must be one of"),
        ({"device": "gpu"}, "'device' parameter of Encoder must be"),
        ({"max_tokens_per_batch": 0}, "'max_tokens_per_batch' parameter of Encoder must be a positive int"),
        ({"max_length": 1}, "'max_length' parameter of Encoder must be an int"),
        ({"max_length": 4096}, "'max_length' parameter of Encoder must be at most 130"),
        ({"prompts": {"NoSuchTask": "x"}}, "Invalid keys in the 'prompts' parameter"),
    ],
)
def test_invalid_arguments_are_rejected(tiny_model_path: Path, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Encoder(tiny_model_path, **{"device": "cpu", **kwargs})


def test_max_length_truncates(tiny_model_path: Path, texts: list[str]) -> None:
    long_text = texts[-2]
    short = Encoder(tiny_model_path, device="cpu", precision="fp32", max_length=16)
    head = short.tokenizer.decode(
        short.tokenizer(long_text, truncation=True, max_length=16)["input_ids"][1:-1]
    )
    assert len(short.tokenizer(long_text)["input_ids"]) > 16
    np.testing.assert_allclose(short.encode_texts([long_text]), short.encode_texts([head]), atol=1e-6)


def test_truncated_texts_are_counted_while_tokenizing(tiny_model_path: Path) -> None:
    encoder = Encoder(tiny_model_path, device="cpu", precision="fp32", max_length=16)
    long = " ".join(["кошка сидит на окне"] * 20)
    encoder.encode_texts(["коротко", long, long + " ещё", "тоже коротко"])
    assert encoder.stats["truncated"] == 2 and encoder.stats["encoded"] == 4
    encoder.encode_texts([long])  # from memory: not tokenized, not counted again
    assert encoder.stats["truncated"] == 2
