"""``rumteb data verify``: recompute the sha256 of every file under a mirror and compare it with the manifests,
naming every missing, changed or unexpected file, and every dataset folder without a manifest (unverified).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from rumteb.data.errors import ManifestError, MissingDataError
from rumteb.data.manifest import MANIFEST, Manifest, _data_files, _sha256, read_manifest


@dataclass
class VerifyReport:
    """What `verify` found; ``ok`` when every dataset folder matches its manifest."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(root: str | os.PathLike[str]) -> VerifyReport:
    """Recompute every file's sha256 under a mirror and compare with the manifests.

    Every dataset folder is ``root/<org>/<name>``. A missing, changed or unexpected (not in the manifest) file is a
    problem; a folder without a manifest is reported as unverified.

    Raises:
        MissingDataError: ``root`` does not exist.
    """
    base = Path(root)
    if not base.is_dir():
        raise MissingDataError(f"The data folder {str(base)!r} does not exist.")
    report = VerifyReport()
    for org in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for folder in sorted(p for p in org.iterdir() if p.is_dir() and not p.name.startswith(".")):
            repo_id = f"{org.name}/{folder.name}"
            manifest_path = folder / MANIFEST
            if not manifest_path.exists():
                report.unverified.append(repo_id)
                continue
            try:
                manifest = read_manifest(manifest_path)
            except ManifestError as err:
                report.problems.append(str(err))
                continue
            report.checked.append(repo_id)
            if manifest.repo_id != repo_id:
                report.problems.append(f"{manifest_path}: records {manifest.repo_id}, but lies in {repo_id}")
            report.problems.extend(_folder_problems(folder, manifest))
    return report


def _folder_problems(folder: Path, manifest: Manifest) -> list[str]:
    problems = []
    present = set(_data_files(folder))
    for rel, entry in sorted(manifest.files.items()):
        path = folder / rel
        if rel not in present:
            problems.append(f"missing: {path}")
        elif path.is_symlink():
            problems.append(f"symbolic link (a mirror holds plain files only): {path}")
        elif path.stat().st_size != entry.size or _sha256(path) != entry.sha256:
            problems.append(f"changed: {path} (sha256 differs from the manifest)")
    for rel in sorted(present - set(manifest.files)):
        problems.append(f"unexpected (not in the manifest): {folder / rel}")
    return problems
