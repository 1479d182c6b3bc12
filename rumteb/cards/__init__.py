"""Dataset cards and the generated docs pages: ``rumteb cards`` and ``rumteb docs``.

Two generators, each with a ``--check`` mode that fails when the committed files are stale:

- ``rumteb cards`` writes ``datasets_cards/<org>__<name>.md``, one Hugging Face Hub dataset card per Hub dataset that
  ruMTEB v1 or v1.1 reads. Facts come from rumteb's task metadata and the descriptive statistics that mteb ships
  (``task.metadata.descriptive_stats``); the prose comes from a hand-written source per dataset,
  ``datasets_cards/_sources/<org>__<name>.md`` (YAML front matter plus fixed ``## `` sections).
- ``rumteb docs`` writes the docs site's generated pages under ``docs/src/``: the task table (``tasks.md``) and the
  CLI reference (``reference/cli.md``, from ``rumteb.cli.build_parser()``).

Both read and write paths relative to the current directory (run them from the repository root) unless ``--dir``
says otherwise. Gotcha: the cards change when mteb's shipped statistics change, so an mteb upgrade can make
``rumteb cards --check`` fail; regenerate and review the diff.

The package, bottom up (each module imports only those before it): `rumteb.cards.hub` (the Hub's card rules),
`rumteb.cards.sources` (which datasets need a card, and their hand-written sources), `rumteb.cards.stats` (mteb's
statistics as table rows and warnings), `rumteb.cards.task_facts` (what a card says about each task),
`rumteb.cards.render` (the cards), `rumteb.cards.docs_pages` (the docs pages) and `rumteb.cards.files` (writing
and checking both on disk). This module re-exports the public names.

Example:
    >>> from rumteb import cards
    >>> len(cards.dataset_tasks())
    23
"""

from rumteb.cards.docs_pages import DOCS_DIR, render_docs_pages
from rumteb.cards.docs_pages import DOCS_PAGES as DOCS_PAGES
from rumteb.cards.files import Difference, check_cards, check_docs, write_cards, write_docs
from rumteb.cards.files import diff as diff
from rumteb.cards.files import expected_cards as expected_cards
from rumteb.cards.hub import (
    HUB_LICENSES,
    REQUIRED_YAML_KEYS,
    CardError,
    card_filename,
    hub_license,
    size_category,
    validate_card,
)
from rumteb.cards.hub import HUB_TASK_IDS as HUB_TASK_IDS
from rumteb.cards.render import render_card, render_cards
from rumteb.cards.sources import CARDS_DIR, CardSource, dataset_tasks, read_source
from rumteb.cards.sources import SOURCE_SECTIONS as SOURCE_SECTIONS
from rumteb.cards.sources import SOURCES as SOURCES

__all__ = [
    "CARDS_DIR",
    "DOCS_DIR",
    "HUB_LICENSES",
    "REQUIRED_YAML_KEYS",
    "CardError",
    "CardSource",
    "Difference",
    "card_filename",
    "check_cards",
    "check_docs",
    "dataset_tasks",
    "hub_license",
    "read_source",
    "render_card",
    "render_cards",
    "render_docs_pages",
    "size_category",
    "validate_card",
    "write_cards",
    "write_docs",
]
