"""mteb's shipped descriptive statistics (``task.metadata.descriptive_stats``) as the generated pages show them:
per split, for the Russian subset only where a repository holds several languages (`split_stats`); as
(quantity, value) table rows by task type (`stats_rows`); and as the warnings a card lists under "Known issues"
(`stats_notes`: empty texts, repeated texts or pairs, test texts also in train). `fmt` is the number format of
every generated table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask


def _descriptive_stats(task: AbsTask) -> dict[str, dict[str, Any]]:
    """``task.metadata.descriptive_stats`` as plain dicts (mteb types them per task type; the cards read any)."""
    return {split: dict(value) for split, value in (task.metadata.descriptive_stats or {}).items()}


def split_stats(task: AbsTask) -> dict[str, dict[str, Any]]:
    """mteb's descriptive statistics per split, for the Russian subset where the dataset holds several."""
    out: dict[str, dict[str, Any]] = {}
    for split, value in _descriptive_stats(task).items():
        per_subset = value.get("hf_subset_descriptive_stats") or {}
        subsets = task.hf_subsets
        if per_subset and len(subsets) == 1 and subsets[0] in per_subset:
            out[split] = dict(per_subset[subsets[0]])
        else:
            out[split] = value
    return out


def all_subsets_size(task: AbsTask) -> int:
    """Rows of every split and subset mteb counted (all languages of a multilingual repository)."""
    return sum(int(value["num_samples"]) for value in _descriptive_stats(task).values())


def fmt(n: float) -> str:
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


def _labels(stats: Mapping[str, Any]) -> str:
    labels = (stats.get("label_statistics") or stats.get("labels_statistics") or {}).get("labels") or {}
    if not labels or len(labels) > 30:
        return ""

    def key(item: tuple[str, Any]) -> tuple[int, int | str]:
        name = item[0]
        return (0, int(name)) if name.isdigit() else (1 if name != "None" else 2, name)

    return ", ".join(f"{name}: {fmt(v['count'])}" for name, v in sorted(labels.items(), key=key))


def stats_rows(task_type: str, stats: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(quantity, value) rows describing one split, by task type."""
    rows: list[tuple[str, str]] = []
    if task_type in ("Retrieval", "Reranking"):
        queries, docs = stats["queries_text_statistics"], stats["documents_text_statistics"]
        relevant = stats["relevant_docs_statistics"]
        rows += [
            ("queries", fmt(stats["num_queries"])),
            ("documents", fmt(stats["num_documents"])),
            ("relevant (query, document) pairs", fmt(relevant["num_relevant_docs"])),
            ("relevant documents per query (mean)", f"{relevant['average_relevant_docs_per_query']:.2f}"),
            (
                "query length, characters (mean / max)",
                f"{queries['average_text_length']:.1f} / {fmt(queries['max_text_length'])}",
            ),
            (
                "document length, characters (mean / max)",
                f"{docs['average_text_length']:.1f} / {fmt(docs['max_text_length'])}",
            ),
        ]
        ranked = stats.get("top_ranked_statistics")
        if ranked:
            rows.append(("candidates per query (mean)", f"{ranked['average_top_ranked_per_query']:.1f}"))
        return rows
    if task_type in ("STS", "PairClassification"):
        first, second = stats["text1_statistics"], stats["text2_statistics"]
        rows += [
            ("pairs", fmt(stats["num_samples"])),
            ("distinct pairs", fmt(stats["unique_pairs"])),
            (
                "first text length, characters (mean / max)",
                f"{first['average_text_length']:.1f} / {fmt(first['max_text_length'])}",
            ),
            (
                "second text length, characters (mean / max)",
                f"{second['average_text_length']:.1f} / {fmt(second['max_text_length'])}",
            ),
        ]
        scores = stats.get("label_statistics") or {}
        if "min_score" in scores:
            rows.append(
                (
                    "gold score (min / mean / max)",
                    f"{scores['min_score']:g} / {scores['avg_score']:.3f} / {scores['max_score']:g}",
                )
            )
        if _labels(stats):
            rows.append(("labels (count)", _labels(stats)))
        return rows
    text = stats["text_statistics"]
    label_stats = stats.get("label_statistics") or stats.get("labels_statistics") or {}
    rows += [
        ("texts", fmt(stats["num_samples"])),
        ("distinct texts", fmt(text["unique_texts"])),
        (
            "text length, characters (mean / max)",
            f"{text['average_text_length']:.1f} / {fmt(text['max_text_length'])}",
        ),
        ("distinct labels", fmt(label_stats.get("unique_labels", 0))),
    ]
    if task_type == "MultilabelClassification":
        rows.append(
            (
                "labels per text (mean / max)",
                f"{label_stats['average_label_per_text']:.2f} / {label_stats['max_labels_per_text']}",
            )
        )
    if _labels(stats):
        rows.append(
            (
                "texts per label"
                if task_type != "MultilabelClassification"
                else "texts per label (None: no label)",
                _labels(stats),
            )
        )
    return rows


def stats_notes(task_name: str, split: str, stats: Mapping[str, Any]) -> list[str]:
    """Facts from mteb's statistics worth a warning: empty texts, duplicates, test texts seen in train."""
    notes = []
    for key, what in (
        ("text_statistics", "texts"),
        ("text1_statistics", "first texts"),
        ("text2_statistics", "second texts"),
        ("documents_text_statistics", "documents"),
        ("queries_text_statistics", "queries"),
    ):
        part = stats.get(key)
        if part and part.get("min_text_length") == 0:
            notes.append(f"{task_name} `{split}`: some {what} are empty (the shortest has 0 characters).")
    if stats.get("samples_in_train"):
        notes.append(
            f"{task_name} `{split}`: {fmt(stats['samples_in_train'])} of its {fmt(stats['num_samples'])} texts "
            "also occur in the training split."
        )
    text = stats.get("text_statistics")
    if text and text["unique_texts"] < stats["num_samples"]:
        notes.append(
            f"{task_name} `{split}`: {fmt(stats['num_samples'] - text['unique_texts'])} texts repeat another text "
            f"of the split ({fmt(text['unique_texts'])} distinct of {fmt(stats['num_samples'])})."
        )
    if "unique_pairs" in stats and stats["unique_pairs"] < stats["num_samples"]:
        notes.append(
            f"{task_name} `{split}`: {fmt(stats['num_samples'] - stats['unique_pairs'])} pairs repeat another pair "
            "of the split."
        )
    docs = stats.get("documents_text_statistics")
    if docs and docs["unique_texts"] < stats["num_documents"]:
        notes.append(
            f"{task_name} `{split}`: {fmt(stats['num_documents'] - docs['unique_texts'])} documents have the same "
            "text as another document (different ids)."
        )
    return notes
