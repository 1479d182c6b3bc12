"""Offline mirrors of ruMTEB's pinned Hub datasets: resolve, pull, verify.

A mirror is a folder ``DATA_DIR`` with one sub-folder per dataset, ``DATA_DIR/<org>/<name>/``, holding the files of
the Hub dataset repository at the pinned revision exactly as ``huggingface_hub.snapshot_download(repo_id=...,
repo_type="dataset", revision=R, local_dir=DATA_DIR/<org>/<name>)`` writes them, plus ``.rumteb-manifest.json``:
the revision, and the size and sha256 of every file.

The modules, each importing only those before it: `errors` (the `DataError` family and `cannot_read`), `manifest`
(read and write ``.rumteb-manifest.json``), `stamps` (a folder checked against its manifest, hashing only changed
files), `location` (the mirror and dataset folder of a task, its own ``datasets`` cache), `verification`
(``rumteb data verify``), `hub` (a Hub failure as one `HubError` line), `pulling` (``rumteb data pull``);
`diagnosis` (reading a mirror: card, splits, the file to blame) and `preflight` (every task's data readable
before a model loads) are imported where they are used.
"""

from __future__ import annotations

from rumteb.data.errors import (
    DataError,
    ManifestError,
    MirrorReadError,
    MissingDataError,
    RevisionMismatchError,
    cannot_read,
)
from rumteb.data.hub import HubError, request_errors, resolve_commit
from rumteb.data.location import (
    ENV_VAR,
    dataset_folder,
    local_dataset_dir,
    mirror_datasets_cache,
    mirror_fingerprint,
    resolve_data_dir,
)
from rumteb.data.manifest import (
    MANIFEST,
    MANIFEST_FORMAT,
    FileEntry,
    Manifest,
    atomic_write_text,
    read_manifest,
    write_manifest,
)
from rumteb.data.pulling import Downloader, pull, pull_repos
from rumteb.data.verification import VerifyReport, verify

__all__ = [
    "ENV_VAR",
    "MANIFEST",
    "MANIFEST_FORMAT",
    "DataError",
    "Downloader",
    "FileEntry",
    "HubError",
    "Manifest",
    "ManifestError",
    "MirrorReadError",
    "MissingDataError",
    "RevisionMismatchError",
    "VerifyReport",
    "atomic_write_text",
    "cannot_read",
    "dataset_folder",
    "local_dataset_dir",
    "mirror_datasets_cache",
    "mirror_fingerprint",
    "pull",
    "pull_repos",
    "read_manifest",
    "request_errors",
    "resolve_commit",
    "resolve_data_dir",
    "verify",
    "write_manifest",
]
