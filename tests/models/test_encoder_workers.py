"""Several devices: one worker process each; the output equals one device's. Run on CPU with two workers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _helpers import russian_sentences

from rumteb.models import Encoder
from rumteb.models.runtime import WorkerPool


def test_two_workers_equal_one_device(tiny_model_path: Path, shared_data: Path) -> None:
    texts = russian_sentences(shared_data, limit=300)
    single = Encoder(tiny_model_path, device="cpu", precision="fp32", max_tokens_per_batch=512).encode_texts(
        texts
    )
    with Encoder(tiny_model_path, device=["cpu", "cpu"], precision="fp32", max_tokens_per_batch=512) as multi:
        assert isinstance(multi._backend, WorkerPool) and len(multi._backend.processes) == 2
        out = multi.encode_texts(texts)
        assert np.array_equal(out, single)  # fp32: bit-identical (bf16 on CPU depends on the thread count)
        # a second call reuses the workers; duplicates and the cache work as with one device
        again = multi.encode_texts([texts[5], "новый текст", texts[5]])
        assert np.array_equal(again[0], out[5]) and np.array_equal(again[2], out[5])
        assert multi.stats["encoded"] == len(set(texts)) + 1
        processes = list(multi._backend.processes)
    assert not any(p.is_alive() for p in processes)


def test_worker_failure_is_reported(tiny_model_path: Path, tmp_path: Path) -> None:
    """A worker that cannot load the model fails the pool's start with the worker's traceback."""
    import dataclasses
    import shutil

    from rumteb.models.runtime._workers import WorkerPool

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_path, broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    spec = dataclasses.replace(Encoder(tiny_model_path, device="cpu").spec, transformer_dir=str(broken))
    with pytest.raises(RuntimeError, match=r"failed to start:\n.*Traceback"):
        WorkerPool(spec, ["cpu"], "fp32", 512)


def test_cuda_means_every_visible_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from rumteb.models.runtime._devices import parse_devices

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    assert parse_devices("cuda") == ["cuda:0", "cuda:1", "cuda:2"]
    assert parse_devices("cuda:1") == ["cuda:1"]
    assert parse_devices(["cuda:0", "1"]) == ["cuda:0", "cuda:1"]
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert parse_devices("cuda") == ["cuda"]  # one GPU: no worker process
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert parse_devices(None) == ["cpu"]
    with pytest.raises(ValueError, match="must be at least one device"):
        parse_devices([])
