"""Content hashes of a model folder: the revision of a local model, and the identity of its embeddings.

One place decides which files are weights: `weights_fingerprint` names a local model's results
(``local/<folder>/<hash>``), `content_fingerprint` keys the embedding cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from rumteb.models.loading._folder_checks import ModelFolderError

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack")
_SKIP_SUFFIXES = (".md", ".png", ".jpg", ".onnx", ".xml")


def weight_files(folder: Path) -> list[Path]:
    """The weight files of a model folder, sorted.

    Raises:
        ModelFolderError: There are none.
    """
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
    if not files:
        raise ModelFolderError(
            f"The model folder {str(folder)!r} has no weight files (model.safetensors, or any *.safetensors or "
            "*.bin): not a saved model, or its weights were deleted. Re-download or re-save the model."
        )
    return files


def weights_fingerprint(folder: Path) -> str:
    """A 40-hex content hash of a model folder's weight files (names and bytes), used as its revision."""
    digest = hashlib.sha256()
    for path in weight_files(folder):
        digest.update(path.relative_to(folder).as_posix().encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:40]


def content_fingerprint(folder: Path, weights_digest: str) -> str:
    """A hash of everything that decides the embeddings: the weights (by their digest), configs and tokenizer."""
    digest = hashlib.sha256(weights_digest.encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if (
            path.suffix in WEIGHT_SUFFIXES
            or rel.startswith(".")
            or "/." in rel
            or path.suffix in _SKIP_SUFFIXES
        ):
            continue
        digest.update(rel.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
