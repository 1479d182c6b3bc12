"""``rumteb data pull --config``: pull a training config's Hub sources, pin them and check their columns.

Each Hub source at ``revision: pin-at-pull`` is resolved to the commit its ``main`` names now, and that commit is
what is downloaded (a 40-hex revision is downloaded as written). Once in the mirror, every source's declared columns
(roles and ``where``, nested fields included) are checked against the features of its data: a mismatch stops the
pull with one line listing the data's columns and the config lines to change, before any lock is written. A source
with ``columns: unknown`` gets its features listed instead. The lock file ``DIR/<config name>.lock.yaml``
(`rumteb.recipe.lock`) then records each source's commit and the sha256 of its files.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rumteb.errors import ConfigError
from rumteb.recipe.columns import ColumnMismatchError, column_problems, describe, feature_columns
from rumteb.recipe.config import TrainConfig
from rumteb.recipe.lock import LockEntry, lock_path, write_lock
from rumteb.recipe.source_config import PIN_AT_PULL, DatasetConfig

__all__ = ["PulledSource", "SourcePull", "pull_sources"]

logger = logging.getLogger("rumteb.data")
_SHIPPED = (Path(__file__).resolve().parent / "configs").resolve()


@dataclass(frozen=True)
class PulledSource:
    """One pulled source: its commit, its files' sha256, and its columns (path -> ``"list of string"``...)."""

    spec: DatasetConfig
    commit: str
    files: Mapping[str, str]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class SourcePull:
    """What `pull_sources` did: the lock file written and each source pulled."""

    lock: Path
    sources: tuple[PulledSource, ...]

    @property
    def unknown(self) -> tuple[PulledSource, ...]:
        """The sources with ``columns: unknown`` (their columns are for the user to map)."""
        return tuple(s for s in self.sources if s.spec.columns_unknown)


def _config_lines(path: Path | None) -> dict[tuple[int, str], int]:
    """(source index, key) -> line number in the config file (1-based), for the messages."""
    import yaml

    if path is None or not path.is_file():
        return {}
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[int, str], int] = {}
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key, value in root.value:
        if key.value != "datasets" or not isinstance(value, yaml.SequenceNode):
            continue
        for index, item in enumerate(value.value):
            if isinstance(item, yaml.MappingNode):
                lines[(index, "name")] = item.start_mark.line + 1
                for sub_key, sub_value in item.value:
                    lines[(index, sub_key.value)] = sub_key.start_mark.line + 1
                    if sub_key.value == "where" and isinstance(sub_value, yaml.MappingNode):
                        for column, _ in sub_value.value:
                            lines[(index, f"where.{column.value}")] = column.start_mark.line + 1
    return lines


def _mismatch(
    spec: DatasetConfig,
    index: int,
    commit: str,
    problems: Mapping[str, str],
    columns: Sequence[str],
    where: Any,
) -> ColumnMismatchError:
    lines, path = where
    config = str(path) if path is not None else "the config"
    if path is not None and Path(path).resolve().parent == _SHIPPED:
        config += " (shipped: edit a copy, 'rumteb train --dump-config NAME > my.yaml', and pull that)"
    change = ", ".join(
        f"{key} (line {lines[(index, key)]})" if (index, key) in lines else key for key in problems
    )
    return ColumnMismatchError(
        f"The training source {spec.name!r} ({spec.hub}@{commit[:10]}) does not have the columns the config "
        f"declares: {'; '.join(problems.values())}. The data's columns: {', '.join(columns)}. Change these lines "
        f"of {config}: {change} (or say 'columns: unknown' there to see the columns without a mapping)."
    )


def pull_sources(
    config: TrainConfig,
    name: str,
    to: str | os.PathLike[str],
    *,
    config_path: str | os.PathLike[str] | None = None,
    resolve: Callable[[str], str] | None = None,
    download: Any = None,
) -> SourcePull:
    """Pull the Hub sources of ``config`` into the mirror ``to``, check their columns and write the lock file.

    Args:
        config: The loaded config (its ``pin-at-pull`` revisions unresolved).
        name: The config's name: the lock file is ``to/<name>.lock.yaml``.
        to: The mirror folder (created when missing).
        config_path: The config's file, to name its lines in a column mismatch.
        resolve: Repository -> the commit its ``main`` names (default: ask the Hub).
        download: The downloader (default ``huggingface_hub.snapshot_download``; see `rumteb.data.pull_repos`).

    Returns:
        The lock file's path and, per source, its commit, files and columns.

    Raises:
        ConfigError: The config has no Hub sources.
        ColumnMismatchError: A source's declared column is not in its data, or not text (no lock is written).
        rumteb.data.HubError: The Hub did not give a dataset.

    Example:
        >>> pull_sources(load_config("my.yaml"), "my", "train_data").lock  # doctest: +SKIP
        PosixPath('train_data/my.lock.yaml')
    """
    from rumteb.data import dataset_folder, pull_repos, resolve_commit
    from rumteb.recipe.sources import SourceReadError, source_features

    hub = [(i, d) for i, d in enumerate(config.datasets) if d.hub is not None]
    if not hub:
        raise ConfigError(
            f"The training config {name!r} has no Hub sources (datasets with hub:); its local files need no pull."
        )
    ask = resolve or resolve_commit
    commits: dict[str, str] = {}
    for _, spec in hub:
        assert spec.hub is not None and spec.revision is not None
        if spec.revision != PIN_AT_PULL:
            commits[spec.name] = spec.revision
        else:
            commits[spec.name] = ask(spec.hub)
            logger.info("%s: %s main is %s", spec.name, spec.hub, commits[spec.name])
    patterns: dict[tuple[str, str], list[str] | None] = {}
    for _, spec in hub:
        key = (str(spec.hub), commits[spec.name])
        files = list(spec.data_files) or None
        before = patterns.get(key, [])
        patterns[key] = (
            None if files is None or (key in patterns and before is None) else [*(before or []), *files]
        )
    manifests = pull_repos(
        [(str(d.hub), commits[d.name], d.name) for _, d in hub], to, download=download, patterns=patterns
    )
    by_repo = {(m.repo_id, m.revision): m for m in manifests}
    where = (_config_lines(Path(config_path) if config_path else None), config_path)
    pulled = []
    for index, spec in hub:
        commit = commits[spec.name]
        at = dataclasses.replace(spec, revision=commit)
        try:
            columns = feature_columns(source_features(dataset_folder(to, str(spec.hub)), at))
        except SourceReadError as err:
            if not spec.columns_unknown:
                raise
            # a source still to be mapped does not stop the pull: what datasets said is what the user needs
            columns = {}
            listed: tuple[str, ...] = (f"(not readable as it is: {err})",)
        else:
            listed = tuple(describe(columns))
        if spec.columns_unknown:
            logger.info("%s (%s@%s) has columns: %s", spec.name, spec.hub, commit[:10], "; ".join(listed))
        else:
            problems = column_problems(spec, columns)
            if problems:
                raise _mismatch(spec, index, commit, problems, listed, where)
        manifest = by_repo[(str(spec.hub), commit)]
        digests = {rel: entry.sha256 for rel, entry in manifest.files.items()}
        pulled.append(PulledSource(spec, commit, digests, listed))
    path = lock_path(to, name)
    entries = [
        LockEntry(p.spec.name, str(p.spec.hub), p.spec.config, p.spec.split, p.commit, p.files)
        for p in pulled
    ]
    write_lock(path, name, entries)
    return SourcePull(path, tuple(pulled))
