"""The navec baseline (``rumteb/navec-avg``): a real Russian bag-of-words embedder from the natasha package."""

from __future__ import annotations

import math
from pathlib import Path

import mteb
import numpy as np
import pytest
from _helpers import main_score, mirror_for_task, read_jsonl

import rumteb
import rumteb.models

baselines = pytest.importorskip("rumteb.models.baselines")


@pytest.fixture(scope="module")
def navec() -> object:
    return baselines.NavecAverage()


def test_vectors_are_normalised_means_of_word_vectors(navec: object) -> None:
    from natasha import NewsEmbedding

    out = navec.encode_texts(["Кошка спит.", "", "ъыъъ щьщьщ", "КОШКА спит"])  # type: ignore[attr-defined]
    assert out.shape == (4, 300) and out.dtype == np.float32
    words = NewsEmbedding()
    mean = (words["кошка"] + words["спит"]) / 2
    np.testing.assert_allclose(out[0], mean / np.linalg.norm(mean), atol=1e-6)
    assert not out[1].any() and not out[2].any()  # no known word: the zero vector
    np.testing.assert_array_equal(out[0], out[3])  # lowercased; punctuation is not in the vocabulary


def test_it_is_a_russian_embedder(navec: object) -> None:
    a, b, c = navec.encode_texts(  # type: ignore[attr-defined]
        [
            "Футбольная команда выиграла матч.",
            "Сборная победила в игре по футболу.",
            "Центробанк повысил ставку.",
        ]
    )
    assert a @ b > a @ c + 0.1


def test_registered_and_loadable_through_mteb() -> None:
    meta = rumteb.models.get_model_meta("rumteb/navec-avg")
    assert meta.revision == baselines.NAVEC_FILE_SHA1 and meta.embed_dim == 300
    model = meta.load_model()
    assert isinstance(model, baselines.NavecAverage)
    with pytest.raises(ValueError, match="'revision' parameter of NavecAverage"):
        baselines.NavecAverage(revision="main")


@pytest.mark.usefixtures("single_threaded")
def test_scores_paraphraser_through_mteb(tmp_path: Path, shared_data: Path, navec: object) -> None:
    """On the exact RUParaPhraserSTS test split it correlates with human paraphrase labels (measured: 0.448;
    English all-MiniLM-L6-v2: 0.439)."""
    rows = read_jsonl(shared_data / "rumteb" / "RUParaPhraserSTS" / "test.jsonl")
    hub_rows = [{"text_1": r["sentence1"], "text_2": r["sentence2"], "class": int(r["score"])} for r in rows]
    mirror_for_task(tmp_path, "RUParaPhraserSTS", {"default": {"test": hub_rows}})
    task = rumteb.get_task("RUParaPhraserSTS", data_dir=tmp_path)
    score = main_score(mteb.evaluate(navec, [task], cache=None, show_progress_bar=False))
    assert math.isfinite(score) and score > 0.4, score
