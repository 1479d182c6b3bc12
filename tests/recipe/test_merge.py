"""SLERP merge: the formula against hand-computed values, the merge plan, and a merged tiny model."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from rumteb.recipe.merge import merge_models, module_kind, slerp, t_for_tensor

pytestmark = pytest.mark.usefixtures("single_threaded")


def test_slerp_orthogonal_hand_computed() -> None:
    # cos = 0, θ = π/2, sin θ = 1: weights sin(π/4) each, on the unnormalised tensors.
    out = slerp(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0]), 0.5)
    w = math.sin(math.pi / 4)
    torch.testing.assert_close(out, torch.tensor([w, 2 * w]))


def test_slerp_general_angle_hand_computed() -> None:
    # cos = 24/25; at t = 1/2 both weights are sin(θ/2)/sin θ = 1 / (2 cos(θ/2)), cos(θ/2) = sqrt((1 + cos) / 2).
    a, b = torch.tensor([3.0, 4.0]), torch.tensor([4.0, 3.0])
    w = 1 / (2 * math.sqrt((1 + 24 / 25) / 2))
    torch.testing.assert_close(slerp(a, b, 0.5), torch.tensor([7 * w, 7 * w]))
    theta = math.acos(24 / 25)
    w0, w1 = math.sin(0.75 * theta) / math.sin(theta), math.sin(0.25 * theta) / math.sin(theta)
    torch.testing.assert_close(slerp(a, b, 0.25), torch.tensor([3 * w0 + 4 * w1, 4 * w0 + 3 * w1]))


def test_slerp_linear_fallback_for_nearly_parallel() -> None:
    a = torch.tensor([1.0, 2.0, 3.0])
    b = torch.tensor([2.0, 4.0, 6.001])  # |cos| > 0.9995
    torch.testing.assert_close(slerp(a, b, 0.3), 0.7 * a + 0.3 * b)
    # antiparallel too
    torch.testing.assert_close(slerp(a, -a, 0.25), 0.75 * a - 0.25 * a)


@pytest.mark.parametrize("shape", [(7,), (4, 5), (2, 3, 4)])
def test_slerp_endpoints_are_exact(shape: tuple[int, ...]) -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    assert torch.equal(slerp(a, b, 0.0), a)
    assert torch.equal(slerp(a, b, 1.0), b)
    assert slerp(a, b, 0.5).shape == a.shape
    assert slerp(a.half(), b.half(), 0.5).dtype == torch.float16


def test_slerp_keeps_norm_on_the_arc_and_lerp_does_not() -> None:
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(256, generator=g), torch.randn(256, generator=g)
    a, b = 5 * a / a.norm(), 5 * b / b.norm()
    for t in (0.1, 0.5, 0.9):
        assert float(slerp(a, b, t).norm()) == pytest.approx(5.0, rel=1e-5)
        assert float(((1 - t) * a + t * b).norm()) < 4.9


def test_slerp_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"The 'b' parameter of slerp must have the shape of 'a' \(2,\)"):
        slerp(torch.zeros(2), torch.zeros(3), 0.5)
    with pytest.raises(ValueError, match=r"The 't' parameter of slerp must be a number in \[0, 1\]. Got 1.5"):
        slerp(torch.zeros(2), torch.zeros(2), 1.5)


def test_module_kind_and_t_plan() -> None:
    assert module_kind("encoder.layer.0.attention.output.LayerNorm.weight") == "attention"
    assert module_kind("encoder.layer.0.intermediate.dense.weight") == "mlp"
    assert module_kind("encoder.layer.0.output.dense.weight") == "mlp"
    assert module_kind("embeddings.word_embeddings.weight") == "other"
    # a gradient over 5 layers from anchors 0, 0.5, 1: layer i gets i / 4
    values = [
        t_for_tensor(f"encoder.layer.{i}.output.dense.weight", 5, t_schedule=[0, 0.5, 1]) for i in range(5)
    ]
    assert values == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    plan = {"t": 0.3, "t_schedule": [0, 1], "t_attention": 0.9, "t_mlp": [1, 0]}
    assert t_for_tensor("encoder.layer.2.attention.self.query.weight", 3, **plan) == 0.9
    assert t_for_tensor("encoder.layer.2.intermediate.dense.weight", 3, **plan) == 0.0
    assert t_for_tensor("encoder.layer.0.output.LayerNorm.bias", 3, **plan) == 1.0
    assert t_for_tensor("pooler.dense.weight", 3, **plan) == 0.3


def _perturbed_copy(src: Path, dst: Path, seed: int = 1) -> Path:
    shutil.copytree(src, dst)
    weights = dst / "model.safetensors"
    state = load_file(str(weights))
    g = torch.Generator().manual_seed(seed)
    state = {k: v + 0.5 * torch.randn(v.shape, generator=g) for k, v in state.items()}
    save_file(state, str(weights), metadata={"format": "pt"})
    return dst


def test_merged_tiny_model_loads_and_equals_per_tensor_slerp(tiny_model_path: Path, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel

    model_b = _perturbed_copy(tiny_model_path, tmp_path / "b")
    out = merge_models(tiny_model_path, model_b, tmp_path / "merged", t=0.4, t_schedule=[0.0, 1.0], t_mlp=0.7)

    a_state = load_file(str(tiny_model_path / "model.safetensors"))
    b_state = load_file(str(model_b / "model.safetensors"))
    merged = load_file(str(out / "model.safetensors"))
    assert set(merged) == set(a_state)
    expected_t = {
        "embeddings.word_embeddings.weight": 0.4,
        "encoder.layer.0.attention.self.query.weight": 0.0,
        "encoder.layer.1.attention.self.query.weight": 1.0,
        "encoder.layer.0.intermediate.dense.weight": 0.7,
    }
    for name, tensor in merged.items():
        t = t_for_tensor(name, 2, 0.4, [0.0, 1.0], None, 0.7)
        if name in expected_t:
            assert t == expected_t[name]
        assert torch.equal(tensor, slerp(a_state[name], b_state[name], t)), name

    hf = AutoModel.from_pretrained(str(out))
    assert torch.equal(
        hf.embeddings.word_embeddings.weight.detach(), merged["embeddings.word_embeddings.weight"]
    )
    st = SentenceTransformer(str(out), device="cpu")
    st_a = SentenceTransformer(str(tiny_model_path), device="cpu")
    assert [type(m).__name__ for m in st] == [type(m).__name__ for m in st_a]
    assert (
        st.tokenize(["Привет, мир"])["input_ids"].tolist()
        == st_a.tokenize(["Привет, мир"])["input_ids"].tolist()
    )
    assert st.encode(["Привет, мир"]).shape == (1, 64)


def test_merge_refuses_mismatched_models(tiny_model_path: Path, tmp_path: Path) -> None:
    model_b = _perturbed_copy(tiny_model_path, tmp_path / "b")
    weights = model_b / "model.safetensors"
    state = load_file(str(weights))
    del state["pooler.dense.bias"]
    state["extra.weight"] = torch.zeros(3)
    state["encoder.layer.0.intermediate.dense.weight"] = torch.zeros(100, 64)
    save_file(state, str(weights), metadata={"format": "pt"})
    with pytest.raises(ValueError, match="with 3 mismatches") as info:
        merge_models(tiny_model_path, model_b, tmp_path / "merged")
    message = str(info.value)
    assert "only in A: pooler.dense.bias" in message
    assert "only in B: extra.weight" in message
    assert "shape of encoder.layer.0.intermediate.dense.weight: A (128, 64), B (100, 64)" in message
    assert not (tmp_path / "merged").exists()


def test_merge_validates_arguments(tiny_model_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"The 't_schedule' parameter of merge_models must be"):
        merge_models(tiny_model_path, tiny_model_path, tmp_path / "m", t_schedule=[0.0, 2.0])
    with pytest.raises(ValueError, match=r"The 'b_dir' parameter of merge_models must be a model folder"):
        merge_models(tiny_model_path, tmp_path / "missing", tmp_path / "m")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(
        ValueError, match=r"The 'out_dir' parameter of merge_models must be a new or empty folder"
    ):
        merge_models(tiny_model_path, tiny_model_path, tmp_path / "full")


def _parser() -> object:

    from rumteb.cli import build_parser

    parser = build_parser()
    return parser


def test_cli_merge_handler(tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = _parser()
    model_b = _perturbed_copy(tiny_model_path, tmp_path / "b")
    out = tmp_path / "merged"
    args = parser.parse_args(  # type: ignore[attr-defined]
        [
            "merge",
            str(tiny_model_path),
            str(model_b),
            "--t-schedule",
            "0,0.5,1",
            "--t-mlp",
            "0.2",
            "--out",
            str(out),
        ]
    )
    assert args.t_schedule == [0.0, 0.5, 1.0] and args.t_mlp == 0.2 and args.t == 0.5
    assert args.handler(args) == 0
    assert "merged" in capsys.readouterr().out
    merged = load_file(str(out / "model.safetensors"))
    a, b = (
        load_file(str(tiny_model_path / "model.safetensors")),
        load_file(str(model_b / "model.safetensors")),
    )
    name = "encoder.layer.1.attention.self.query.weight"
    assert torch.equal(merged[name], slerp(a[name], b[name], 1.0))
    with pytest.raises(SystemExit):
        parser.parse_args(["merge", "a", "b", "--t-schedule", "0,2", "--out", "x"])  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", ["merge", "extend-tokenizer", "train"])
def test_cli_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        _parser().parse_args([command, "--help"])  # type: ignore[attr-defined]
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text
    assert ("--set" if command == "train" else "--out") in text
