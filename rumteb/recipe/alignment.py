"""Cross-lingual alignment check: are a model's Russian and English embeddings of the same sentence close?

The paper leaves open how well ru-en-RoSBERTa aligns the two languages. On row-aligned translation pairs
``(ru_i, en_i)`` this reports

- the mean cosine of translation pairs, and of random pairs ``(ru_i, en_j)``, ``j != i`` drawn with a seed (the gap
  between the two is what alignment means; a high pair cosine alone can be anisotropy);
- retrieval accuracy@1 in both directions: the share of ``ru_i`` whose nearest English sentence (cosine) is ``en_i``,
  and the same from English to Russian.

Pairs are de-duplicated first (a repeated Russian or English text keeps its first pair only), so a retrieval hit is
never ambiguous. Input files: one JSONL file with a Russian and an English column, or two row-aligned JSONL files
(``../shared/data/train/stsb_multi_mt/ru-test.jsonl`` and ``en-test.jsonl``) read at the same fields.

Example:
    >>> ru, en = read_pairs(["ru-test.jsonl", "en-test.jsonl"], fields=["sentence1"])  # doctest: +SKIP
    >>> align("out/trained", ru, en).ru_to_en_accuracy_at_1  # doctest: +SKIP
    0.62
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rumteb.errors import ParameterError

if TYPE_CHECKING:
    from rumteb.models.encoder import Encoder

__all__ = ["AlignmentReport", "align", "alignment_scores", "read_pairs"]


@dataclass(frozen=True)
class AlignmentReport:
    """What `align` and `alignment_scores` return (cosines in [-1, 1], accuracies in [0, 1])."""

    pairs: int
    mean_cosine_pairs: float
    mean_cosine_random: float
    ru_to_en_accuracy_at_1: float
    en_to_ru_accuracy_at_1: float

    @property
    def cosine_gap(self) -> float:
        """Mean cosine of translation pairs minus that of random pairs."""
        return self.mean_cosine_pairs - self.mean_cosine_random

    def as_dict(self) -> dict[str, float | int]:
        """Plain numbers, for JSON."""
        return {
            "pairs": self.pairs,
            "mean_cosine_pairs": self.mean_cosine_pairs,
            "mean_cosine_random": self.mean_cosine_random,
            "cosine_gap": self.cosine_gap,
            "ru_to_en_accuracy_at_1": self.ru_to_en_accuracy_at_1,
            "en_to_ru_accuracy_at_1": self.en_to_ru_accuracy_at_1,
        }


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def _accuracy_at_1(queries: np.ndarray, targets: np.ndarray, chunk: int = 4096) -> float:
    hits = 0
    for start in range(0, len(queries), chunk):
        scores = queries[start : start + chunk] @ targets.T
        hits += int((scores.argmax(axis=1) == np.arange(start, start + len(scores))).sum())
    return hits / len(queries)


def alignment_scores(ru: np.ndarray, en: np.ndarray, *, seed: int = 0) -> AlignmentReport:
    """Alignment numbers of row-aligned embeddings (row ``i`` of ``ru`` translates row ``i`` of ``en``).

    Ties in retrieval go to the lowest index (numpy's argmax), so a query tied with its own translation and an
    earlier row counts as a miss.

    Args:
        ru: ``(n, d)`` embeddings of the Russian sentences (normalised here; any scale).
        en: ``(n, d)`` embeddings of their English translations.
        seed: seed of the random-pair draw.

    Raises:
        ValueError: the shapes differ or fewer than 2 pairs.

    Example:
        >>> e = np.eye(3)
        >>> alignment_scores(e, e).ru_to_en_accuracy_at_1
        1.0
    """
    if ru.ndim != 2 or ru.shape != en.shape or len(ru) < 2:
        raise ParameterError(
            "The 'ru' and 'en' parameters of alignment_scores must be equal-shaped (n, d) arrays with n >= 2. "
            f"Got {ru.shape} and {en.shape} instead."
        )
    ru_unit, en_unit = _unit(ru), _unit(en)
    n = len(ru_unit)
    others = (np.arange(n) + np.random.default_rng(seed).integers(1, n, size=n)) % n  # never i itself
    return AlignmentReport(
        pairs=n,
        mean_cosine_pairs=float(np.mean(np.sum(ru_unit * en_unit, axis=1))),
        mean_cosine_random=float(np.mean(np.sum(ru_unit * en_unit[others], axis=1))),
        ru_to_en_accuracy_at_1=_accuracy_at_1(ru_unit, en_unit),
        en_to_ru_accuracy_at_1=_accuracy_at_1(en_unit, ru_unit),
    )


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _column(rows: list[dict[str, Any]], name: str, path: Path) -> list[str]:
    if rows and name not in rows[0]:
        from rumteb._util.lookup import unknown_name_error

        raise unknown_name_error(f"column of {path}", name, list(rows[0]), fix=f"Columns: {list(rows[0])}.")
    return [str(row[name]) for row in rows]


def read_pairs(
    paths: Sequence[str | Path],
    *,
    columns: tuple[str, str] = ("ru", "en"),
    fields: Sequence[str] = ("sentence1",),
    max_pairs: int | None = None,
) -> tuple[list[str], list[str]]:
    """Russian and English sentences of translation pairs, de-duplicated, in file order.

    Args:
        paths: one JSONL file with a Russian and an English column (``columns``), or two row-aligned JSONL files,
            Russian first, whose ``fields`` are read from both (each field adds a pair per row).
        columns: the Russian and English column of a single file.
        fields: the text fields of two row-aligned files.
        max_pairs: keep the first this many pairs after de-duplication.

    Raises:
        ValueError: not one or two files, or two files of different lengths.
        LookupError: a column or field that the file lacks.

    Example:
        >>> ru, en = read_pairs(["pairs.jsonl"], columns=("ru", "en"))  # doctest: +SKIP
    """
    files = [Path(p) for p in paths]
    if len(files) == 1:
        rows = _read_jsonl(files[0])
        ru, en = _column(rows, columns[0], files[0]), _column(rows, columns[1], files[0])
    elif len(files) == 2:
        ru_rows, en_rows = _read_jsonl(files[0]), _read_jsonl(files[1])
        if len(ru_rows) != len(en_rows):
            raise ParameterError(
                "The 'paths' parameter of read_pairs must name two row-aligned files of equal length. "
                f"Got {len(ru_rows)} and {len(en_rows)} rows instead."
            )
        ru = [t for f in fields for t in _column(ru_rows, f, files[0])]
        en = [t for f in fields for t in _column(en_rows, f, files[1])]
    else:
        raise ParameterError(
            f"The 'paths' parameter of read_pairs must hold one or two files. Got {len(files)} instead."
        )
    seen_ru: set[str] = set()
    seen_en: set[str] = set()
    out_ru: list[str] = []
    out_en: list[str] = []
    for r, e in zip(ru, en, strict=True):
        r, e = r.strip(), e.strip()
        if r and e and r not in seen_ru and e not in seen_en:
            seen_ru.add(r)
            seen_en.add(e)
            out_ru.append(r)
            out_en.append(e)
    if max_pairs is not None:
        out_ru, out_en = out_ru[:max_pairs], out_en[:max_pairs]
    return out_ru, out_en


def align(
    model: str | Path | Encoder,
    ru: Sequence[str],
    en: Sequence[str],
    *,
    prompt: str | None = None,
    seed: int = 0,
    device: str | None = None,
    precision: str = "auto",
) -> AlignmentReport:
    """Encode translation pairs with rumteb's `Encoder` and report their alignment (`alignment_scores`).

    Args:
        model: a model folder or Hub id (loaded as ``Encoder(model, device=..., precision=...)``), or an `Encoder`.
        ru: Russian sentences; ``ru[i]`` translates ``en[i]``.
        en: English sentences.
        prompt: prefix for both sides (e.g. ``"search_query: "``); default none.
        seed: seed of the random pairs.
        device: for a model given by name; default CUDA if available.
        precision: for a model given by name (``Encoder``'s ``precision``).

    Example:
        >>> align("sentence-transformers/all-MiniLM-L6-v2", ["Кошка спит."], ["The cat sleeps."])  # doctest: +SKIP
    """
    from rumteb.models.encoder import Encoder

    if len(ru) != len(en):
        raise ParameterError(
            f"The 'ru' and 'en' parameters of align must have equal lengths. Got {len(ru)} and {len(en)} instead."
        )
    owned = not isinstance(model, Encoder)
    encoder = model if isinstance(model, Encoder) else Encoder(model, device=device, precision=precision)
    try:
        ru_vectors = encoder.encode_texts(list(ru), prompt=prompt)
        en_vectors = encoder.encode_texts(list(en), prompt=prompt)
    finally:
        if owned:
            encoder.close()
    return alignment_scores(ru_vectors, en_vectors, seed=seed)
