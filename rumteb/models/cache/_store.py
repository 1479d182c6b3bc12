"""Embeddings by content key: in memory for one run, on disk across runs.

A key is the SHA-256 of the model's namespace (model and revision or content hash, precision, max length, pooling,
normalisation), the prompt and the text, so the same text under another prompt is another entry.

On disk, ``<cache_dir>/<namespace>/`` holds ``namespace.json`` and append-only segment files. A segment is
written to a temporary file, flushed, fsynced and renamed into place (then the folder is fsynced), so a crash
leaves either a whole segment or none. Every record carries a BLAKE2b checksum of its key and vector; a record
whose checksum does not match (a torn or corrupted file) is never returned: it counts as a miss and is encoded
again. Several processes may share a cache folder: each writes its own segments.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rumteb._util.atomic import fsync_folder

logger = logging.getLogger(__name__)

KEY_BYTES = 32
_SUM_BYTES = 16
_MAGIC = b"RUMTEBE1"
_HEADER = 16  # magic (8) + dim (uint32) + reserved (uint32)


def namespace_id(settings: dict[str, object]) -> str:
    """A stable 32-hex id of the settings that decide the embeddings."""
    blob = json.dumps(settings, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def content_keys(namespace: str, prompt: str | None, texts: Sequence[str]) -> list[bytes]:
    """One 32-byte key per text: SHA-256 over namespace, prompt (length-prefixed) and text."""
    head = hashlib.sha256(namespace.encode())
    prompt_bytes = (prompt or "").encode()
    head.update(len(prompt_bytes).to_bytes(8, "little") + prompt_bytes)
    keys = []
    for text in texts:
        digest = head.copy()
        digest.update(text.encode())
        keys.append(digest.digest())
    return keys


def _checksum(record: bytes) -> bytes:
    return hashlib.blake2b(record, digest_size=_SUM_BYTES).digest()


class DiskStore:
    """Append-only, checksummed segment files of ``(key, float32 vector)`` records for one namespace."""

    def __init__(self, folder: Path, settings: dict[str, object], dim: int) -> None:
        self.folder = folder
        self.dim = int(dim)
        self.record = np.dtype(
            [("key", f"V{KEY_BYTES}"), ("vec", "<f4", (self.dim,)), ("sum", f"V{_SUM_BYTES}")]
        )
        self._index: dict[bytes, tuple[int, int]] = {}
        self._segments: list[np.ndarray] = []
        self._seen: set[str] = set()
        folder.mkdir(parents=True, exist_ok=True)
        meta = folder / "namespace.json"
        if not meta.exists():
            self._atomic_write(
                meta, json.dumps({**settings, "dim": self.dim}, indent=1, sort_keys=True).encode()
            )

    def _atomic_write(self, target: Path, payload: bytes) -> None:
        tmp = self.folder / f".tmp-{uuid.uuid4().hex}"
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        fsync_folder(self.folder)

    def refresh(self) -> None:
        """Index segments written since the last look (by this or another process)."""
        for path in sorted(self.folder.glob("seg-*.rec")):
            if path.name in self._seen:
                continue
            self._seen.add(path.name)
            records = self._open(path)
            if records is None:
                continue
            number = len(self._segments)
            self._segments.append(records)
            bad = 0
            for row in range(len(records)):
                key = records["key"][row].tobytes()
                if key in self._index:
                    continue
                if self._valid(records, row):
                    self._index[key] = (number, row)
                else:
                    bad += 1
            if bad:
                logger.warning("Embedding cache: %d corrupt record(s) in %s are ignored", bad, path)

    def _open(self, path: Path) -> np.ndarray | None:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            header = handle.read(_HEADER)
        if (
            len(header) < _HEADER
            or header[:8] != _MAGIC
            or int.from_bytes(header[8:12], "little") != self.dim
        ):
            logger.warning("Embedding cache: %s has no valid header; ignored", path)
            return None
        count = (size - _HEADER) // self.record.itemsize
        if (size - _HEADER) % self.record.itemsize:
            logger.warning(
                "Embedding cache: %s ends in a partial record; the partial record is ignored", path
            )
        if count == 0:
            return np.zeros(0, dtype=self.record)
        return np.memmap(path, dtype=self.record, mode="r", offset=_HEADER, shape=(count,))

    def _valid(self, records: np.ndarray, row: int) -> bool:
        raw = records[row : row + 1].tobytes()
        return _checksum(raw[: KEY_BYTES + 4 * self.dim]) == raw[KEY_BYTES + 4 * self.dim :]

    def get(self, keys: Sequence[bytes]) -> list[np.ndarray | None]:
        """The stored vector of each key, or None (missing or failing its checksum)."""
        if any(k not in self._index for k in keys):
            self.refresh()
        out: list[np.ndarray | None] = []
        for key in keys:
            where = self._index.get(key)
            if where is None:
                out.append(None)
                continue
            records = self._segments[where[0]]
            if not self._valid(records, where[1]):  # changed on disk since it was indexed
                logger.warning("Embedding cache: a record failed its checksum; it will be recomputed")
                del self._index[key]
                out.append(None)
                continue
            out.append(np.array(records["vec"][where[1]], dtype=np.float32))
        return out

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Write one new segment holding ``keys`` -> ``vectors`` (crash-safe)."""
        if not len(keys):
            return
        records = np.zeros(len(keys), dtype=self.record)
        records["key"] = np.frombuffer(b"".join(keys), dtype=f"V{KEY_BYTES}")
        records["vec"] = np.asarray(vectors, dtype=np.float32)
        body = KEY_BYTES + 4 * self.dim
        raw = bytearray(records.tobytes())
        for row in range(len(keys)):
            start = row * self.record.itemsize
            raw[start + body : start + body + _SUM_BYTES] = _checksum(bytes(raw[start : start + body]))
        header = _MAGIC + self.dim.to_bytes(4, "little") + bytes(4)
        name = f"seg-{os.getpid()}-{uuid.uuid4().hex}.rec"
        self._atomic_write(self.folder / name, header + bytes(raw))


class EmbeddingStore:
    """Memory (bounded, least recently used out first) in front of an optional `DiskStore`."""

    def __init__(self, memory_bytes: int = 2 << 30) -> None:
        self.memory: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self.memory_bytes = int(memory_bytes)
        self._used = 0
        self.disk: DiskStore | None = None
        self.stats = {"memory_hits": 0, "disk_hits": 0, "encoded": 0}

    def attach_disk(self, folder: Path, settings: dict[str, object], dim: int) -> None:
        self.disk = DiskStore(folder, settings, dim)

    def get(self, keys: Sequence[bytes], remember: bool = True) -> list[np.ndarray | None]:
        """Vectors from memory, else from disk (kept in memory after unless ``remember`` is False)."""
        found: list[np.ndarray | None] = []
        missing = []
        for i, key in enumerate(keys):
            vector = self.memory.get(key)
            if vector is not None:
                self.memory.move_to_end(key)
                self.stats["memory_hits"] += 1
            else:
                missing.append(i)
            found.append(vector)
        if missing and self.disk is not None:
            for i, vector in zip(missing, self.disk.get([keys[i] for i in missing]), strict=True):
                if vector is not None:
                    found[i] = vector
                    self.stats["disk_hits"] += 1
                    if remember:
                        self._remember(keys[i], vector)
        return found

    def put(self, keys: Sequence[bytes], vectors: np.ndarray, remember: bool = True) -> None:
        """New vectors: into memory (unless ``remember`` is False) and to disk when attached."""
        self.stats["encoded"] += len(keys)
        if remember:
            for key, vector in zip(keys, vectors, strict=True):
                self._remember(key, np.array(vector, dtype=np.float32))
        if self.disk is not None:
            self.disk.put(keys, vectors)

    def _remember(self, key: bytes, vector: np.ndarray) -> None:
        if key in self.memory or vector.nbytes > self.memory_bytes:
            return
        self.memory[key] = vector
        self._used += vector.nbytes
        while self._used > self.memory_bytes:
            _, old = self.memory.popitem(last=False)
            self._used -= old.nbytes
