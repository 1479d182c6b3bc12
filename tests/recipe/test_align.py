"""Cross-lingual alignment check: numbers against a plain-Python reference, edge cases, file reading, the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from rumteb.recipe.alignment import align, alignment_scores, read_pairs

pytestmark = pytest.mark.usefixtures("single_threaded")


def _stsb(shared: Path) -> tuple[Path, Path]:
    folder = shared / "train" / "stsb_multi_mt"
    return folder / "ru-test.jsonl", folder / "en-test.jsonl"


def _reference(ru: np.ndarray, en: np.ndarray) -> tuple[float, float, float]:
    """Mean pair cosine and accuracy@1 both ways, written out with loops (first index wins a tie)."""

    def cos(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))

    n = len(ru)
    sims = [[cos(ru[i], en[j]) for j in range(n)] for i in range(n)]
    ru_hits = sum(max(range(n), key=lambda j: (sims[i][j], -j)) == i for i in range(n))
    en_hits = sum(max(range(n), key=lambda i: (sims[i][j], -i)) == j for j in range(n))
    return sum(sims[i][i] for i in range(n)) / n, ru_hits / n, en_hits / n


def test_accuracy_matches_a_reference_on_a_tiny_models_embeddings(
    tiny_model_path: Path, shared_data: Path
) -> None:
    from rumteb.models import Encoder

    ru, en = read_pairs(_stsb(shared_data), max_pairs=80)
    encoder = Encoder(tiny_model_path, device="cpu", precision="fp32")
    ru_vectors, en_vectors = encoder.encode_texts(ru), encoder.encode_texts(en)
    report = alignment_scores(ru_vectors, en_vectors, seed=1)
    mean_cos, ru_acc, en_acc = _reference(ru_vectors, en_vectors)
    assert report.pairs == 80
    assert report.mean_cosine_pairs == pytest.approx(mean_cos, abs=1e-6)
    assert report.ru_to_en_accuracy_at_1 == pytest.approx(ru_acc)
    assert report.en_to_ru_accuracy_at_1 == pytest.approx(en_acc)
    assert align(encoder, ru, en, seed=1) == report
    # Half the English rows replaced by their Russian row (a sure hit), the other half by the next Russian row
    # (a sure miss: ru_i's nearest English row is then the one equal to ru_i): exactly 0.5 both ways.
    half = len(ru_vectors) // 2
    mixed = ru_vectors.copy()
    mixed[half:] = np.roll(ru_vectors[half:], 1, axis=0)
    known = alignment_scores(ru_vectors, mixed)
    assert known.ru_to_en_accuracy_at_1 == known.en_to_ru_accuracy_at_1 == 0.5
    assert _reference(ru_vectors, mixed)[1:] == (0.5, 0.5)


def test_identical_and_shifted_embeddings() -> None:
    vectors = np.random.default_rng(0).normal(size=(50, 16))
    same = alignment_scores(vectors, vectors * 3.0)  # scale does not matter: cosine
    assert same.ru_to_en_accuracy_at_1 == same.en_to_ru_accuracy_at_1 == 1.0
    assert same.mean_cosine_pairs == pytest.approx(1.0)
    assert same.cosine_gap > 0.5
    shifted = alignment_scores(vectors, np.roll(vectors, 1, axis=0))  # en_i is the translation of ru_{i-1}
    assert shifted.ru_to_en_accuracy_at_1 == shifted.en_to_ru_accuracy_at_1 == 0.0
    with pytest.raises(ValueError, match="The 'ru' and 'en' parameters of alignment_scores must be"):
        alignment_scores(vectors, vectors[:10])


def test_identical_texts_give_accuracy_one(tiny_model_path: Path, shared_data: Path) -> None:
    from rumteb.models import Encoder

    ru, _ = read_pairs(_stsb(shared_data), max_pairs=40)
    report = align(Encoder(tiny_model_path, device="cpu", precision="fp32"), ru, ru)
    assert report.ru_to_en_accuracy_at_1 == report.en_to_ru_accuracy_at_1 == 1.0
    assert math.isclose(report.mean_cosine_pairs, 1.0, abs_tol=1e-5)


def test_read_pairs_formats_and_deduplication(shared_data: Path, tmp_path: Path) -> None:
    ru_file, en_file = _stsb(shared_data)
    ru, en = read_pairs([ru_file, en_file], fields=["sentence1", "sentence2"])
    assert len(ru) == len(en) == len(set(ru)) == len(set(en))
    assert 1379 < len(ru) < 2 * 1379  # both fields, minus repeated sentences
    first_ru = json.loads(ru_file.read_text(encoding="utf-8").splitlines()[0])
    first_en = json.loads(en_file.read_text(encoding="utf-8").splitlines()[0])
    assert (ru[0], en[0]) == (first_ru["sentence1"].strip(), first_en["sentence1"].strip())

    single = tmp_path / "pairs.jsonl"
    rows = [{"ru": "Кошка спит.", "en": "The cat sleeps."}, {"ru": "Кошка спит.", "en": "A cat sleeps."}]
    rows.append({"ru": "Собака лает.", "en": "The dog barks."})
    single.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert read_pairs([single]) == (["Кошка спит.", "Собака лает."], ["The cat sleeps.", "The dog barks."])
    with pytest.raises(LookupError, match="Did you mean: en"):
        read_pairs([single], columns=("ru", "eng"))
    short = tmp_path / "short.jsonl"
    short.write_text(json.dumps(rows[0], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match="two row-aligned files of equal length"):
        read_pairs([single, short])


def test_cli_align_prints_the_api_numbers(
    tiny_model_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rumteb.cli import main

    ru_file, en_file = _stsb(shared_data)
    argv = ["align", str(tiny_model_path), "--pairs", str(ru_file), str(en_file), "--max-pairs", "60"]
    assert main([*argv, "--json", "--device", "cpu", "--precision", "fp32"]) == 0
    printed = json.loads(capsys.readouterr().out)
    ru, en = read_pairs([ru_file, en_file], max_pairs=60)
    expected = align(tiny_model_path, ru, en, device="cpu", precision="fp32")
    assert printed["pairs"] == 60
    assert printed["ru_to_en_accuracy_at_1"] == expected.ru_to_en_accuracy_at_1
    assert printed["mean_cosine_pairs"] == pytest.approx(expected.mean_cosine_pairs, abs=1e-6)
    assert main([*argv, "--device", "cpu"]) == 0
    assert "accuracy@1 ru->en" in capsys.readouterr().out
    assert main(["align", str(tiny_model_path), "--pairs", str(ru_file), str(en_file), str(ru_file)]) == 1
    assert "takes one or two files" in capsys.readouterr().err
