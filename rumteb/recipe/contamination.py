"""How much of a training set appears in ruMTEB's evaluation splits, before anyone trains on it.

A training text is *contaminated* by a task when it occurs in one of the task's evaluation splits: exactly after
normalisation (Unicode NFKC, case folded, whitespace collapsed), or as a near duplicate, a text whose set of
character 5-grams has a Jaccard similarity of at least ``threshold`` with an evaluation text. Near duplicates are
found with MinHash and locality-sensitive hashing (datasketch) and then confirmed with the exact Jaccard
similarity, so a reported pair is never an artefact of the sketch (the sketch may miss a pair close to the
threshold, it never invents one).

Memory: the exact pass keeps one 8-byte hash per distinct evaluation text. The near pass keeps each task's
normalised evaluation texts and an LSH index of them (about 1 KB per text at 128 permutations), so tasks with
more than ``near_max_texts`` distinct texts (MIRACLRetrieval's 9.5M passages) get the exact pass only; the report
names them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rumteb.errors import ConfigError, MissingExtraError, ParameterError

__all__ = ["ContaminationReport", "ExcludeConfig", "Overlap", "find_contamination", "normalise", "task_texts"]

SHINGLE = 5
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """``text`` as it is compared: NFKC, case folded, runs of whitespace as one space, stripped.

    Example:
        >>> normalise("  Цены на НЕФТЬ\\n восстанавливаются ")
        'цены на нефть восстанавливаются'
    """
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _hashes(texts: Sequence[str]) -> np.ndarray:
    """One 64-bit hash per text, in order."""
    values = [int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little") for t in texts]
    return np.asarray(values, dtype=np.uint64)


@dataclass(frozen=True)
class ExcludeConfig:
    """The training config's ``exclude_contaminated``: drop every training example one of whose texts is
    contaminated by a task of ``benchmark`` (read from ``data_dir``, default ``$RUMTEB_DATA_DIR``, else the Hub).
    ``true`` in the YAML means these defaults."""

    benchmark: str = "ruMTEB"
    data_dir: str | None = None
    threshold: float = 0.8
    near: bool = True

    @classmethod
    def from_value(cls, value: Any) -> ExcludeConfig | None:
        """``false``/``null`` -> None, ``true`` -> the defaults, a mapping -> its keys (unknown keys refused).

        Raises:
            ConfigError: Another value, or a bad threshold.
            LookupError: An unknown key (with the closest names).
        """
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if not isinstance(value, Mapping):
            expected = (
                "true, false or a mapping {benchmark: ruMTEB, data_dir: DIR, threshold: 0.8, near: true}"
            )
            raise ConfigError.invalid("the training config", "exclude_contaminated", expected, value)
        from dataclasses import fields

        from rumteb._util.lookup import unknown_name_error

        known = [f.name for f in fields(cls)]
        for key in value:
            if key not in known:
                raise unknown_name_error(
                    "key in exclude_contaminated", key, known, fix=f"Known keys: {', '.join(known)}."
                )
        config = cls(**dict(value))
        if not (
            isinstance(config.threshold, float | int)
            and not isinstance(config.threshold, bool)
            and 0 < config.threshold <= 1
        ):
            raise ConfigError.invalid(
                "the training config", "exclude_contaminated.threshold", "in (0, 1]", config.threshold
            )
        return config


def _shingles(text: str) -> set[bytes]:
    if len(text) <= SHINGLE:
        return {text.encode()}
    return {text[i : i + SHINGLE].encode() for i in range(len(text) - SHINGLE + 1)}


def jaccard(a: str, b: str) -> float:
    """The exact Jaccard similarity of two normalised texts' character 5-gram sets."""
    sa, sb = _shingles(a), _shingles(b)
    return len(sa & sb) / len(sa | sb)


def task_texts(task: Any) -> list[str]:
    """The distinct normalised texts of a loaded mteb task's evaluation splits (every string column: sentences,
    documents, queries, titles), over all its subsets."""
    if not task.data_loaded:
        task.load_data()
    found: set[str] = set()
    for split_data in _eval_split_data(task):
        for column in _string_columns(split_data):
            found.update(normalise(t) for t in column if isinstance(t, str) and t.strip())
    return sorted(found)


def _eval_split_data(task: Any) -> Iterator[Any]:
    # mteb keys multilingual data by subset then split; monolingual data by split, or by "default" then split
    data = task.dataset
    if task.metadata.is_multilingual:
        per_subset = [data[s] for s in task.hf_subsets if s in data]
    else:
        per_subset = [
            data["default"] if "default" in data and not any(s in data for s in task.eval_splits) else data
        ]
    for per_split in per_subset:
        for split in task.eval_splits:
            if split in per_split:
                yield per_split[split]


def _string_columns(data: Any) -> Iterator[list[Any]]:
    """Each string (or list-of-string) column of a `datasets.Dataset`, or of the datasets inside a mapping
    (retrieval: corpus, queries; ``relevant_docs`` and ``top_ranked`` hold ids only)."""
    import datasets

    if isinstance(data, datasets.Dataset):
        for name, feature in data.features.items():
            if isinstance(feature, datasets.Value) and feature.dtype in ("string", "large_string"):
                if not name.endswith("id"):
                    yield data.data.column(name).to_pylist()
            elif isinstance(feature, datasets.Sequence | list) and "string" in str(feature):
                yield [t for row in data.data.column(name).to_pylist() for t in (row or [])]
    elif isinstance(data, Mapping):
        for key, value in data.items():
            if key not in ("relevant_docs", "top_ranked"):
                yield from _string_columns(value)


@dataclass(frozen=True)
class Overlap:
    """One training source against one task: ``texts`` distinct training texts, ``exact`` of them in the task's
    evaluation splits after normalisation, ``near`` more (not exact) within the Jaccard threshold of one."""

    source: str
    task: str
    texts: int
    exact: int
    near: int | None
    examples: tuple[tuple[str, str, float], ...] = ()

    @property
    def share(self) -> float:
        """(exact + near) / texts."""
        return (self.exact + (self.near or 0)) / self.texts if self.texts else 0.0


@dataclass
class ContaminationReport:
    """Every source against every task, and per source the normalised training texts found (for exclusion)."""

    benchmark: str
    threshold: float
    num_perm: int
    overlaps: list[Overlap]
    exact_only: dict[str, int] = field(
        default_factory=dict
    )  # task -> its distinct texts, over near_max_texts
    contaminated: dict[str, set[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "normalisation": "NFKC, casefold, whitespace collapsed",
            "near_duplicate": {"measure": f"Jaccard of character {SHINGLE}-grams", "threshold": self.threshold,
                               "minhash_permutations": self.num_perm},
            "exact_only_tasks": self.exact_only,
            "sources": {name: len(texts) for name, texts in self.contaminated.items()},
            "overlaps": [
                {"source": o.source, "task": o.task, "texts": o.texts, "exact": o.exact, "near": o.near,
                 "share": round(o.share, 6),
                 "examples": [{"train": a, "eval": b, "jaccard": round(j, 4)} for a, b, j in o.examples]}
                for o in self.overlaps
            ],
        }  # fmt: skip

    def table(self, all_rows: bool = False) -> str:
        """A markdown table: one row per source and task with any overlap (every pair with ``all_rows``)."""
        lines = ["| source | task | texts | exact | near | share |", "|---|---|---:|---:|---:|---:|"]
        for o in self.overlaps:
            if all_rows or o.exact or o.near:
                near = "n/a" if o.near is None else str(o.near)
                lines.append(
                    f"| {o.source} | {o.task} | {o.texts} | {o.exact} | {near} | {100 * o.share:.2f}% |"
                )
        if len(lines) == 2:
            lines.append("| (none) | | | | | |")
        return "\n".join(lines) + "\n"


class _NearIndex:
    """MinHash LSH over one task's evaluation texts; `matches` confirms candidates with the exact Jaccard."""

    def __init__(self, texts: Sequence[str], threshold: float, num_perm: int) -> None:
        try:
            from datasketch import MinHashLSH
        except ImportError as err:
            raise MissingExtraError(
                'Near-duplicate search needs datasketch, which is not installed. Install it with: pip install "rumteb[train]" '
                "(or pass near=False / --exact-only)."
            ) from err

        self.texts, self.threshold, self.num_perm = texts, threshold, num_perm
        # The index is tuned for recall (a lower threshold, false negatives weighted 9:1): every candidate is
        # confirmed with the exact Jaccard below, so extra candidates cost time only, while a pair the sketch
        # misses is lost.
        self.lsh = MinHashLSH(threshold=max(0.3, 0.75 * threshold), num_perm=num_perm, weights=(0.1, 0.9))
        with self.lsh.insertion_session() as session:
            for i, sketch in enumerate(self._sketches(texts)):
                session.insert(i, sketch, check_duplication=False)

    def _sketches(self, texts: Sequence[str]) -> Iterator[Any]:
        from datasketch import MinHash

        for text in texts:
            sketch = MinHash(num_perm=self.num_perm, seed=1)
            sketch.update_batch(list(_shingles(text)))
            yield sketch

    def matches(self, texts: Sequence[str]) -> Iterator[tuple[str, str, float]]:
        """(training text, its most similar evaluation text, Jaccard) for each text over the threshold."""
        for text, sketch in zip(texts, self._sketches(texts), strict=True):
            best = max(
                ((jaccard(text, self.texts[i]), self.texts[i]) for i in self.lsh.query(sketch)), default=None
            )
            if best is not None and best[0] >= self.threshold:
                yield text, best[1], best[0]


def find_contamination(
    sources: Mapping[str, Iterable[str]],
    tasks: Sequence[Any],
    *,
    benchmark: str = "ruMTEB",
    threshold: float = 0.8,
    num_perm: int = 128,
    near: bool = True,
    near_max_texts: int = 1_000_000,
    examples: int = 3,
) -> ContaminationReport:
    """Compare each training source's texts with each task's evaluation splits.

    Args:
        sources: Source name -> its training texts (raw; normalised here).
        tasks: mteb task instances (e.g. ``rumteb.get_tasks(benchmark="ruMTEB", data_dir=...)``); loaded here.
        threshold: Jaccard similarity of character 5-grams from which a text is a near duplicate, in (0, 1].
        near: Also look for near duplicates (MinHash LSH); ``False``: exact matches only.
        near_max_texts: Tasks with more distinct evaluation texts get the exact pass only (memory, see above).
        examples: Matches kept per source and task as examples.

    Raises:
        ValueError: ``threshold`` outside (0, 1] or ``num_perm`` not a positive int.

    Example:
        >>> report = find_contamination({"pairs": ["Цены на нефть восстанавливаются"]}, [rumteb.get_task("RUParaPhraserSTS")])
        >>> report.overlaps[0].exact
        1
    """
    if not (isinstance(threshold, float | int) and 0 < threshold <= 1):
        raise ParameterError.invalid("find_contamination", "threshold", "in (0, 1]", threshold)
    if not (isinstance(num_perm, int) and num_perm > 0):
        raise ParameterError.invalid("find_contamination", "num_perm", "a positive int", num_perm)
    train = {
        name: sorted({normalise(t) for t in texts if isinstance(t, str) and t.strip()})
        for name, texts in sources.items()
    }
    train_hashes = {name: _hashes(texts) for name, texts in train.items()}  # once, not once per task
    report = ContaminationReport(
        benchmark, float(threshold), num_perm, [], contaminated={n: set() for n in train}
    )
    for task in tasks:
        name = task.metadata.name
        evaluation = task_texts(task)
        eval_hashes = np.unique(_hashes(evaluation))
        index = None
        if near and len(evaluation) > near_max_texts:
            report.exact_only[name] = len(evaluation)
        elif near:
            index = _NearIndex(evaluation, float(threshold), num_perm)
        for source, texts in train.items():
            hit = np.isin(train_hashes[source], eval_hashes)
            exact = [t for t, h in zip(texts, hit, strict=True) if h]
            shown = [(t, t, 1.0) for t in exact[:examples]]
            near_hits: list[tuple[str, str, float]] = []
            if index is not None:
                near_hits = list(index.matches([t for t, h in zip(texts, hit, strict=True) if not h]))
            report.contaminated[source].update(exact)
            report.contaminated[source].update(t for t, _, _ in near_hits)
            report.overlaps.append(
                Overlap(source, name, len(texts), len(exact), None if index is None else len(near_hits),
                        tuple(shown + near_hits[: max(0, examples - len(shown))]))
            )  # fmt: skip
    return report
