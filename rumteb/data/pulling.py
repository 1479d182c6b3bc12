"""``rumteb data pull``: download each task's pinned dataset from the Hub into a mirror and write its manifest.

Tasks sharing a dataset are planned into one download; for repositories that keep each language in its own configs
(MIRACL), only the configs of the tasks' subsets are fetched, read from the card's YAML. Each dataset is downloaded
next to its folder and swapped in whole, so a crash never leaves a mix of files or revisions.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rumteb.data.hub import hub_error
from rumteb.data.location import dataset_folder
from rumteb.data.manifest import Manifest, write_manifest

# "rumteb.data", not __name__: the name users see on the console (README) and that callers set the level of
logger = logging.getLogger("rumteb.data")

#: Downloads one dataset repository: (repo_id, revision, local_dir, allow_patterns or None) -> None.
Downloader = Callable[[str, str, Path, "list[str] | None"], None]


def _hub_download(repo_id: str, revision: str, local_dir: Path, allow_patterns: list[str] | None) -> None:
    from huggingface_hub import snapshot_download

    snapshot_download(
        repo_id=repo_id,
        repo_type="dataset",
        revision=revision,
        local_dir=local_dir,
        allow_patterns=allow_patterns,
    )


def _readme_configs(readme: Path) -> list[dict[str, Any]]:
    """The ``configs:`` list of a dataset card's YAML header (empty when there is none)."""
    import yaml

    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, flags=re.DOTALL)
    if not match:
        return []
    header = yaml.safe_load(match.group(1)) or {}
    configs = header.get("configs", []) if isinstance(header, dict) else []
    return [c for c in configs if isinstance(c, dict) and "config_name" in c]


def _config_patterns(configs: list[dict[str, Any]], subsets: Iterable[str]) -> list[str] | None:
    """allow_patterns for the data files of the configs of the given subsets (``ru``, ``ru-corpus``...)."""
    wanted = set(subsets)
    patterns = ["README.md"]
    for config in configs:
        name = str(config["config_name"])
        if name.split("-")[0] not in wanted:
            continue
        data_files = config.get("data_files", [])
        if isinstance(data_files, str | dict):
            data_files = [data_files]
        for item in data_files:
            paths = item.get("path", []) if isinstance(item, dict) else item
            patterns.extend([paths] if isinstance(paths, str) else list(paths))
    return patterns if len(patterns) > 1 else None


@dataclass(frozen=True)
class _Pull:
    repo_id: str
    revision: str
    tasks: tuple[str, ...]
    subsets: tuple[str, ...] | None  # the subsets to keep, when the repo splits languages into configs
    patterns: tuple[str, ...] | None = None  # only these files (with README.md), when the caller names them


def _plan(tasks: Sequence[Any]) -> list[_Pull]:
    grouped: dict[tuple[str, str], list[Any]] = {}
    for task in tasks:
        key = (task.metadata.dataset["path"], task.metadata.dataset["revision"])
        grouped.setdefault(key, []).append(task)
    plan = []
    for (repo_id, revision), group in grouped.items():
        subsets: set[str] | None = set()
        for task in group:
            if (
                task.metadata.is_multilingual
                and not getattr(task, "fast_loading", False)
                and subsets is not None
            ):
                subsets.update(task.hf_subsets)
            else:
                subsets = None  # the whole repository is needed
        names = tuple(t.metadata.name for t in group)
        plan.append(_Pull(repo_id, revision, names, tuple(sorted(subsets)) if subsets else None))
    return plan


def pull(
    tasks: Sequence[Any],
    to: str | os.PathLike[str],
    *,
    download: Downloader | None = None,
) -> list[Manifest]:
    """Download each task's pinned dataset into the mirror ``to`` and write its manifest.

    Datasets shared by several tasks are downloaded once. For repositories that keep each language in its own
    configs (MIRACL), only the Russian configs' files are fetched.

    Args:
        tasks: Task instances (e.g. ``rumteb.get_tasks()``).
        to: The mirror folder; created when missing.
        download: The function that fetches one repository (default: ``huggingface_hub.snapshot_download``).

    Example:
        >>> rumteb.data.pull(rumteb.get_tasks(["TERRa"]), "ru_data")  # doctest: +SKIP
    """
    return _pull_plan(_plan(tasks), Path(to), download or _hub_download)


def pull_repos(
    repos: Sequence[tuple[str, str, str]],
    to: str | os.PathLike[str],
    *,
    download: Downloader | None = None,
    patterns: Mapping[tuple[str, str], Sequence[str] | None] | None = None,
) -> list[Manifest]:
    """Download Hub datasets at pinned revisions into the mirror ``to``, with manifests, as `pull` does for
    tasks: ``repos`` holds ``(repo_id, revision, used_by)`` (e.g. the training sources of a config, ``used_by``
    naming the source). A repository named twice at one revision is downloaded once.

    Args:
        repos: ``(repo_id, revision, used_by)`` per dataset.
        to: The mirror folder; created when missing.
        download: The function that fetches one repository (default: ``huggingface_hub.snapshot_download``).
        patterns: Per ``(repo_id, revision)``, only the files matching these glob patterns (and ``README.md``);
            the whole repository when missing or None.

    Example:
        >>> pull_repos([("IlyaGusev/habr", "<40-hex commit>", "habr")], "train_data")  # doctest: +SKIP
    """
    grouped: dict[tuple[str, str], list[str]] = {}
    for repo_id, revision, used_by in repos:
        grouped.setdefault((repo_id, revision), []).append(used_by)
    wanted = patterns or {}
    plan = []
    for (repo_id, revision), names in grouped.items():
        only = wanted.get((repo_id, revision))
        files = None if only is None else tuple(dict.fromkeys(["README.md", *only]))
        plan.append(_Pull(repo_id, revision, tuple(names), None, files))
    return _pull_plan(plan, Path(to), download or _hub_download)


def _pull_plan(plan: Sequence[_Pull], root: Path, fetch: Downloader) -> list[Manifest]:
    root.mkdir(parents=True, exist_ok=True)
    manifests = []
    for item in plan:
        folder = dataset_folder(root, item.repo_id)
        # Download next to the target and swap it in whole: a crash or a new revision never leaves a mix of files.
        staging = folder.with_name(f".{folder.name}.partial")
        if staging.exists():
            shutil.rmtree(staging)
        patterns = None if item.patterns is None else list(item.patterns)
        try:
            if item.subsets is not None:
                fetch(item.repo_id, item.revision, staging, ["README.md"])
                patterns = _config_patterns(_readme_configs(staging / "README.md"), item.subsets)
            logger.info("Pulling %s@%s into %s", item.repo_id, item.revision, folder)
            fetch(item.repo_id, item.revision, staging, patterns)
        except (
            Exception
        ) as err:  # a Hub failure becomes one line; anything else is a bug and keeps its traceback
            shutil.rmtree(
                staging, ignore_errors=True
            )  # the folder in place stays as it was, with nothing beside it
            mapped = hub_error(item.repo_id, item.revision, err, folder)
            if mapped is None:
                raise
            raise mapped from err
        manifests.append(write_manifest(staging, item.repo_id, item.revision, item.tasks, patterns))
        _swap_in(staging, folder)
    return manifests


def _swap_in(staging: Path, folder: Path) -> None:
    old = folder.with_name(f".{folder.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    if old.exists():
        shutil.rmtree(old)
