"""What a card is made of besides the task metadata: which Hub datasets need a card (`dataset_tasks`, one entry
per dataset that ruMTEB v1 or v1.1 reads, with the tasks that read it) and the hand-written source of each,
``datasets_cards/_sources/<org>__<name>.md``, which `read_source` parses and checks into a `CardSource` (YAML front
matter plus the prose sections named in `SOURCE_SECTIONS`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rumteb.cards.hub import HUB_TASK_IDS, CardError

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask

#: Default folder of the cards (relative to the current directory).
CARDS_DIR = Path("datasets_cards")
#: Sub-folder of the cards folder that holds the hand-written sources.
SOURCES = "_sources"
#: Sections of a hand-written source, in card order; the optional ones may be left out.
SOURCE_SECTIONS = ("Description", "How ruMTEB uses it", "Columns", "Provenance", "Licence", "Known issues")
_OPTIONAL_SECTIONS = frozenset({"Columns"})
#: Front-matter keys of a hand-written source.
_SOURCE_KEYS = frozenset({"pretty_name", "source_datasets", "task_ids"})
_REQUIRED_SOURCE_KEYS = ("pretty_name", "source_datasets")


def dataset_tasks() -> dict[str, list[AbsTask]]:
    """Hub dataset id -> fresh instances of the rumteb tasks that read it, in rumteb's task order.

    Every task class in ``rumteb.tasks.TASKS`` counts (ruMTEB v1 and v1.1). Tasks that share a dataset (the
    RuSciBench classification and clustering tasks) share one entry.

    Raises:
        CardError: Two tasks read the same dataset at different revisions.
    """
    from rumteb.tasks import TASKS

    grouped: dict[str, list[AbsTask]] = {}
    for cls in TASKS:
        task = cls()
        grouped.setdefault(task.metadata.dataset["path"], []).append(task)
    for repo_id, tasks in grouped.items():
        revisions = {t.metadata.dataset["revision"] for t in tasks}
        if len(revisions) > 1:
            raise CardError(f"The tasks reading {repo_id} pin different revisions: {sorted(revisions)}.")
    return grouped


@dataclass(frozen=True)
class CardSource:
    """A hand-written source: front matter (pretty name, source datasets, extra task ids) and prose sections."""

    path: Path
    pretty_name: str
    source_datasets: tuple[str, ...]
    task_ids: tuple[str, ...]
    sections: Mapping[str, str]


def read_source(path: Path) -> CardSource:
    """Parse ``datasets_cards/_sources/<org>__<name>.md``.

    The file starts with a YAML front matter (``pretty_name``, ``source_datasets``, optional ``task_ids``), then
    ``## `` sections named as in `SOURCE_SECTIONS`, in any order.

    Raises:
        CardError: Missing or unknown keys or sections, or an empty required section.
    """
    import yaml

    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, flags=re.DOTALL)
    if not match:
        raise CardError(f"{path}: must start with a YAML front matter between '---' lines.")
    front = yaml.safe_load(match.group(1)) or {}
    if not isinstance(front, dict):
        raise CardError(f"{path}: the front matter must be a mapping. Got {type(front).__name__} instead.")
    unknown = sorted(set(front) - _SOURCE_KEYS)
    missing = [key for key in _REQUIRED_SOURCE_KEYS if not front.get(key)]
    if unknown or missing:
        raise CardError(
            f"{path}: front matter keys must be {sorted(_SOURCE_KEYS)}; unknown {unknown}, missing {missing}."
        )
    task_ids = tuple(front.get("task_ids") or ())
    bad_ids = sorted(set(task_ids) - HUB_TASK_IDS)
    if bad_ids:
        raise CardError(
            f"{path}: task_ids {bad_ids} are not Hub task ids ({', '.join(sorted(HUB_TASK_IDS))})."
        )
    sections: dict[str, str] = {}
    parts = re.split(r"^## (.+)$", match.group(2), flags=re.MULTILINE)
    if parts[0].strip():
        raise CardError(f"{path}: text before the first '## ' section: {parts[0].strip()[:60]!r}.")
    for title, body in zip(parts[1::2], parts[2::2], strict=True):
        title = title.strip()
        if title not in SOURCE_SECTIONS or title in sections:
            raise CardError(
                f"{path}: unknown or repeated section {title!r}. Sections: {list(SOURCE_SECTIONS)}."
            )
        sections[title] = body.strip()
    empty = [s for s in SOURCE_SECTIONS if s not in _OPTIONAL_SECTIONS and not sections.get(s)]
    if empty:
        raise CardError(f"{path}: missing or empty sections {empty}.")
    sources = front["source_datasets"]
    if isinstance(sources, str) or not all(isinstance(s, str) for s in sources):
        raise CardError(f"{path}: source_datasets must be a list of strings. Got {sources!r} instead.")
    return CardSource(path, str(front["pretty_name"]), tuple(sources), task_ids, sections)
