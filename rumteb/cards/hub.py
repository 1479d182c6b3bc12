"""The Hugging Face Hub's rules for a dataset card, as rumteb applies them: the licence ids, task categories, task
ids and size buckets a card's YAML header may use, the keys it must have, the card file name of a Hub dataset id,
and `validate_card`, which parses a card as the Hub does and checks those rules. `CardError`, the one error of the
cards package, lives here too. This module imports nothing from rumteb or mteb; the rest of ``rumteb.cards``
builds on it.
"""

from __future__ import annotations

from typing import Any

from rumteb.errors import RumtebError

#: Hub licence ids the cards may use (https://huggingface.co/docs/hub/repositories-licenses), plus the two the
#: Hub keeps for the rest: ``unknown`` (not specified) and ``other``.
HUB_LICENSES = frozenset(
    {
        "apache-2.0",
        "mit",
        "cc-by-4.0",
        "cc-by-sa-4.0",
        "cc-by-nc-sa-4.0",
        "cc-by-nc-nd-4.0",
        "unknown",
        "other",
    }
)
#: Task metadata licences that are not Hub ids, mapped to the Hub's id (as mteb's own cards do).
_LICENSE_TO_HUB = {"not specified": "unknown"}
#: Keys every card's YAML header must have.
REQUIRED_YAML_KEYS = (
    "license",
    "language",
    "task_categories",
    "task_ids",
    "size_categories",
    "source_datasets",
    "pretty_name",
    "configs",
)
#: Hub ``task_ids`` the cards may use (the Hub's list for the categories below).
HUB_TASK_IDS = frozenset(
    {
        "acceptability-classification",
        "document-retrieval",
        "hate-speech-detection",
        "intent-classification",
        "multi-class-classification",
        "multi-label-classification",
        "natural-language-inference",
        "semantic-similarity-classification",
        "semantic-similarity-scoring",
        "sentiment-analysis",
        "sentiment-classification",
        "sentiment-scoring",
        "topic-classification",
    }
)
#: mteb task type -> Hub task category (mteb's own mapping, ``TaskMetadata._hf_task_type``).
TASK_CATEGORY = {
    "Classification": "text-classification",
    "MultilabelClassification": "text-classification",
    "Clustering": "text-classification",
    "PairClassification": "text-classification",
    "Reranking": "text-ranking",
    "Retrieval": "text-retrieval",
    "STS": "sentence-similarity",
}
#: mteb task type -> the Hub task ids it implies; sources add the rest (``task_ids:`` in their front matter).
TYPE_TASK_IDS = {
    "Classification": ["multi-class-classification"],
    "MultilabelClassification": ["multi-label-classification"],
    "Reranking": ["document-retrieval"],
    "Retrieval": ["document-retrieval"],
    "STS": ["semantic-similarity-scoring"],
}
_SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
)


class CardError(RumtebError, ValueError):
    """A hand-written source or a generated card that breaks the card rules; the message names the file."""


def card_filename(repo_id: str) -> str:
    """``org/name`` -> ``org__name.md`` (the Hub's own way of flattening ids, as in mteb's result folders)."""
    return repo_id.replace("/", "__") + ".md"


def hub_license(license_id: str | None, where: str = "task metadata") -> str:
    """The Hub licence id for a task metadata licence.

    Raises:
        CardError: The licence has no Hub id in `HUB_LICENSES` (add a mapping rather than guessing).

    Example:
        >>> hub_license("not specified")
        'unknown'
    """
    mapped = _LICENSE_TO_HUB.get(license_id or "not specified", license_id or "")
    if mapped not in HUB_LICENSES:
        raise CardError(
            f"The licence {license_id!r} in {where} has no Hub licence id. Known ids: "
            f"{', '.join(sorted(HUB_LICENSES))}."
        )
    return mapped


def size_category(n: int) -> str:
    """The Hub's ``size_categories`` bucket for ``n`` examples.

    Example:
        >>> size_category(2048)
        '1K<n<10K'
    """
    for bound, name in _SIZE_CATEGORIES:
        if n < bound:
            return name
    return "n>1B"


def validate_card(text: str, where: str = "card") -> dict[str, Any]:
    """Parse a card with ``huggingface_hub.DatasetCard`` and check the rules every rumteb card follows.

    Returns:
        The card's YAML data as a dict.

    Raises:
        CardError: Missing keys, a licence or task id the Hub does not know, or a language other than ``ru``.

    Example:
        >>> validate_card(open("datasets_cards/mteb__TERRa.md").read())["license"]  # doctest: +SKIP
        'mit'
    """
    from huggingface_hub import DatasetCard

    data = DatasetCard(text).data.to_dict()
    # task_ids may be an empty list (the Hub has no id for clustering); every other key needs a value.
    missing = [
        key for key in REQUIRED_YAML_KEYS if data.get(key) is None or (key != "task_ids" and not data[key])
    ]
    if missing:
        raise CardError(f"{where}: the YAML header lacks {missing}.")
    if data["license"] not in HUB_LICENSES:
        raise CardError(f"{where}: licence {data['license']!r} is not a Hub licence id.")
    if data["language"] != ["ru"]:
        raise CardError(f"{where}: language must be ['ru']. Got {data['language']!r} instead.")
    bad = sorted(set(data["task_ids"]) - HUB_TASK_IDS)
    if bad:
        raise CardError(f"{where}: task_ids {bad} are not Hub task ids.")
    return dict(data)
