"""The embedding cache: dedup within a run, on disk across runs, content keys with the prompt, crash safety."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _helpers import russian_sentences

from rumteb.models import Encoder
from rumteb.models.cache._store import DiskStore, content_keys


@pytest.fixture(scope="module")
def texts(shared_data: Path) -> list[str]:
    return russian_sentences(shared_data, limit=60)


def _segments(cache: Path) -> list[Path]:
    return sorted(cache.rglob("seg-*.rec"))


def test_disk_cache_encodes_each_input_once_ever(
    tiny_model_path: Path, tmp_path: Path, texts: list[str]
) -> None:
    cache = tmp_path / "cache"
    first = Encoder(tiny_model_path, device="cpu", precision="fp32", cache_dir=cache)
    expected = first.encode_texts(texts)
    assert first.stats["encoded"] == len(texts) and len(_segments(cache)) == 1

    second = Encoder(tiny_model_path, device="cpu", precision="fp32", cache_dir=cache)
    assert np.array_equal(second.encode_texts(texts[::-1]), expected[::-1])
    assert second.stats == {"memory_hits": 0, "disk_hits": len(texts), "encoded": 0, "truncated": 0}

    # a new text is encoded, the rest come from disk; another prompt is another entry
    second.encode_texts([*texts[:5], "совсем новый текст"])
    assert second.stats["encoded"] == 1
    second.encode_texts(texts[:5], prompt="search_query: ")
    assert second.stats["encoded"] == 6


def test_namespace_separates_precision_and_settings(
    tiny_model_path: Path, tmp_path: Path, texts: list[str]
) -> None:
    cache = tmp_path / "cache"
    Encoder(tiny_model_path, device="cpu", precision="fp32", cache_dir=cache).encode_texts(texts[:5])
    other = Encoder(tiny_model_path, device="cpu", precision="bf16", cache_dir=cache)
    other.encode_texts(texts[:5])
    assert other.stats["encoded"] == 5
    shorter = Encoder(tiny_model_path, device="cpu", precision="fp32", max_length=16, cache_dir=cache)
    shorter.encode_texts(texts[:5])
    assert shorter.stats["encoded"] == 5
    assert len({p.parent for p in _segments(cache)}) == 3


def test_keys_are_content_hashes_including_the_prompt() -> None:
    a, b = content_keys("ns", None, ["текст", "текст"])
    assert a == b and len(a) == 32
    assert content_keys("ns", "q: ", ["текст"]) != [a]
    # the prompt is length-prefixed: ("ab", "c") and ("a", "bc") differ
    assert content_keys("ns", "ab", ["c"]) != content_keys("ns", "a", ["bc"])
    assert content_keys("other", None, ["текст"]) != [a]


def test_corrupt_and_partial_records_are_never_read_back(tmp_path: Path) -> None:
    store = DiskStore(tmp_path, {"test": 1}, dim=4)
    keys = content_keys("ns", None, [f"t{i}" for i in range(6)])
    vectors = np.arange(24, dtype=np.float32).reshape(6, 4)
    store.put(keys[:3], vectors[:3])
    store.put(keys[3:], vectors[3:])
    segments = sorted(tmp_path.glob("seg-*.rec"))
    first, second = sorted(
        segments, key=lambda p: p.read_bytes()[16:48] != keys[0]
    )  # the one holding keys[:3]

    # flip one byte inside the vector of record 1 of the first segment
    raw = bytearray(first.read_bytes())
    record = store.record.itemsize
    raw[16 + record + 32 + 2] ^= 0xFF
    first.write_bytes(bytes(raw))
    # cut the second segment in the middle of its last record (a torn write)
    second.write_bytes(second.read_bytes()[: -record // 2])
    # a leftover temporary file of a crashed writer, and a segment with a bad header
    (tmp_path / ".tmp-crashed").write_bytes(b"garbage")
    (tmp_path / "seg-bad.rec").write_bytes(b"NOTMAGIC" + bytes(64))

    fresh = DiskStore(tmp_path, {"test": 1}, dim=4)
    found = fresh.get(keys)
    assert [v is not None for v in found] == [True, False, True, True, True, False]
    for i in (0, 2, 3, 4):
        assert np.array_equal(found[i], vectors[i])


def test_corruption_after_indexing_is_detected_on_read(tmp_path: Path) -> None:
    store = DiskStore(tmp_path, {"test": 1}, dim=4)
    keys = content_keys("ns", None, ["a", "b"])
    store.put(keys, np.ones((2, 4), dtype=np.float32))
    assert all(v is not None for v in store.get(keys))  # indexed
    (segment,) = tmp_path.glob("seg-*.rec")
    raw = bytearray(segment.read_bytes())
    raw[-20] ^= 0x01  # inside the last record's vector
    with open(segment, "r+b") as handle:  # in place: the store's memory map sees the change
        handle.write(bytes(raw))
    assert [v is not None for v in store.get(keys)] == [True, False]
    assert [v is not None for v in DiskStore(tmp_path, {"test": 1}, dim=4).get(keys)] == [True, False]


def test_encoder_recomputes_a_corrupted_entry(
    tiny_model_path: Path, tmp_path: Path, texts: list[str]
) -> None:
    cache = tmp_path / "cache"
    expected = Encoder(tiny_model_path, device="cpu", precision="fp32", cache_dir=cache).encode_texts(
        texts[:8]
    )
    (segment,) = _segments(cache)
    raw = bytearray(segment.read_bytes())
    raw[16 + 40] ^= 0xFF  # a byte of the first record's vector
    segment.write_bytes(bytes(raw))
    again = Encoder(tiny_model_path, device="cpu", precision="fp32", cache_dir=cache)
    np.testing.assert_allclose(again.encode_texts(texts[:8]), expected, atol=1e-6)
    assert again.stats["encoded"] == 1 and again.stats["disk_hits"] == 7


def test_writes_are_atomic(
    tiny_model_path: Path, tmp_path: Path, texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between writing and renaming leaves no segment behind, only a temporary file readers ignore."""
    import os

    cache = tmp_path / "cache"
    encoder = Encoder(tiny_model_path, device="cpu", precision="fp32", cache_dir=cache)

    def crash(src: str, dst: str) -> None:
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        encoder.encode_texts(texts[:4])
    monkeypatch.undo()
    assert _segments(cache) == [] and list(cache.rglob(".tmp-*"))
    fresh = Encoder(tiny_model_path, device="cpu", precision="fp32", cache_dir=cache)
    fresh.encode_texts(texts[:4])
    assert fresh.stats["encoded"] == 4 and len(_segments(cache)) == 1
