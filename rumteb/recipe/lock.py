"""The lock file of a training config's Hub sources: which commit of each ``pin-at-pull`` source was pulled.

``rumteb data pull --config CONFIG --to DIR`` writes ``DIR/<config name>.lock.yaml`` (as pip-tools, poetry and uv
write theirs): per source its name, repository, config, split, the commit it downloaded and the sha256 of every
file. `apply_lock` replaces each ``revision: pin-at-pull`` of a config by its locked commit, so training and the
contamination report read exactly what was pulled; a source with neither a commit nor a lock entry is refused
with the pull command to run.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rumteb.errors import ConfigError
from rumteb.recipe.config import TrainConfig
from rumteb.recipe.source_config import PIN_AT_PULL, DatasetConfig

__all__ = [
    "LOCK_FORMAT",
    "LockEntry",
    "UnpinnedSourceError",
    "apply_lock",
    "config_name",
    "lock_path",
    "read_lock",
    "write_lock",
]

LOCK_FORMAT = 1


class UnpinnedSourceError(ConfigError):
    """A Hub source with ``revision: pin-at-pull`` and no entry in the lock file (the message names the pull)."""


@dataclass(frozen=True)
class LockEntry:
    """One pulled source: the commit its ``pin-at-pull`` resolved to and the sha256 of its files."""

    source: str
    repo: str
    config: str | None
    split: str
    commit: str
    files: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "repo": self.repo,
            "config": self.config,
            "split": self.split,
            "commit": self.commit,
            "files": {path: {"sha256": digest} for path, digest in sorted(self.files.items())},
        }


def config_name(config: str | os.PathLike[str]) -> str:
    """The name a config's lock file is called by: a shipped config's name, a file's name without ``.yaml``.

    Example:
        >>> config_name("configs/my-run.yaml")
        'my-run'
    """
    name = Path(config).name
    for suffix in (".yaml", ".yml"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def lock_path(data_dir: str | os.PathLike[str], name: str) -> Path:
    """``DATA_DIR/<name>.lock.yaml``."""
    return Path(data_dir) / f"{name}.lock.yaml"


def write_lock(path: Path, config: str, entries: Sequence[LockEntry]) -> None:
    """Write the lock file atomically (readers see the old one or the whole new one)."""
    import yaml

    from rumteb.data import atomic_write_text

    header = (
        f"# Written by 'rumteb data pull --config {config}': the commit each Hub source was pulled at.\n"
        "# 'rumteb train' and 'rumteb contamination' read it; pull again to move to newer commits.\n"
    )
    body = {"format": LOCK_FORMAT, "config": config, "sources": [entry.to_dict() for entry in entries]}
    atomic_write_text(path, header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False))


def read_lock(path: Path) -> dict[str, LockEntry]:
    """Source name -> `LockEntry` of a lock file.

    Raises:
        ConfigError: The file is not a lock file of this format (the message says to pull again).
    """
    import yaml

    again = "Pull again with 'rumteb data pull --config CONFIG --to DIR' to rewrite it."
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ConfigError(f"Cannot read the lock file {str(path)!r}: {err}. {again}") from err
    try:
        if not isinstance(raw, Mapping) or raw.get("format") != LOCK_FORMAT:
            raise ValueError(f"not a lock file of format {LOCK_FORMAT}")
        entries = {}
        for item in raw["sources"]:
            files = {rel: str(entry["sha256"]) for rel, entry in (item.get("files") or {}).items()}
            entry = LockEntry(
                str(item["source"]),
                str(item["repo"]),
                None if item.get("config") is None else str(item["config"]),
                str(item["split"]),
                str(item["commit"]),
                files,
            )
            entries[entry.source] = entry
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ConfigError(f"The lock file {str(path)!r} is malformed ({err}). {again}") from err
    return entries


def _locked(spec: DatasetConfig, entry: LockEntry | None) -> bool:
    return entry is not None and (entry.repo, entry.config, entry.split) == (
        spec.hub,
        spec.config,
        spec.split,
    )


def apply_lock(config: TrainConfig, name: str, data_dir: str | os.PathLike[str] | None = None) -> TrainConfig:
    """``config`` with every ``revision: pin-at-pull`` replaced by the commit in ``DATA_DIR/<name>.lock.yaml``.

    Args:
        config: A loaded config.
        name: The config's name (`config_name` of its file, or a shipped config's name).
        data_dir: The mirror holding the lock (default: the config's ``data_dir``, else ``$RUMTEB_DATA_DIR``).

    Raises:
        UnpinnedSourceError: A ``pin-at-pull`` source with no matching lock entry (the message names the pull).

    Example:
        >>> apply_lock(load_config("my.yaml"), "my", "train_data").datasets[0].revision  # doctest: +SKIP
        '8f1c...'
    """
    from rumteb.data import ENV_VAR

    unpinned = [d for d in config.datasets if d.hub is not None and d.revision == PIN_AT_PULL]
    if not unpinned:
        return config
    root = data_dir or config.data_dir or os.environ.get(ENV_VAR)
    path = lock_path(root, name) if root else None
    entries = read_lock(path) if path is not None and path.is_file() else {}
    pinned = []
    for spec in config.datasets:
        if spec.hub is None or spec.revision != PIN_AT_PULL:
            pinned.append(spec)
            continue
        entry = entries.get(spec.name)
        if not _locked(spec, entry):
            where = str(path) if path is not None else f"DIR/{name}.lock.yaml (no data_dir and no {ENV_VAR})"
            state = "has no entry for it" if path is not None and path.is_file() else "does not exist"
            if entry is not None:
                state = f"locks {entry.repo} ({entry.config}, {entry.split}) for it, not this source"
            raise UnpinnedSourceError(
                f"The training source {spec.name!r} ({spec.hub}) says 'revision: {PIN_AT_PULL}' and the lock file "
                f"{where} {state}: run 'rumteb data pull --config {name} --to {root or 'DIR'}' first "
                "(or write its 40-hex commit as revision:)."
            )
        assert entry is not None
        pinned.append(dataclasses.replace(spec, revision=entry.commit))
    return dataclasses.replace(config, datasets=tuple(pinned))
