"""The encoders' parts, each handed what it needs: the cached embedder (one dedupe-and-cache path for the local and
the served encoder), the backends behind one protocol, and mteb's ``encode`` from two abstract methods."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rumteb.models.cache import CachedEmbedder, EmbeddingStore, IncompleteEmbeddings, namespace_id


class Recorder:
    """An embedding function: a text's vector is (its length, its first character's code point, ...)."""

    def __init__(self, dim: int = 3, fail_after: int | None = None) -> None:
        self.dim = dim
        self.fail_after = fail_after
        self.calls: list[list[str]] = []

    def __call__(
        self, inputs: list[str], keys: list[bytes], prompt: str | None, show_progress_bar: bool
    ) -> np.ndarray:
        self.calls.append(list(inputs))
        vectors = np.zeros((len(inputs), self.dim), dtype=np.float32)
        vectors[:, 0] = [len(text) for text in inputs]
        vectors[:, 1] = [ord(text[0]) if text else 0 for text in inputs]
        if self.fail_after is not None:
            done = list(range(min(self.fail_after, len(inputs))))
            raise IncompleteEmbeddings(done, vectors[done], ConnectionError("server gone"))
        return vectors


def test_each_distinct_input_is_embedded_once_with_its_prompt() -> None:
    embed = Recorder()
    embedder = CachedEmbedder(embed, namespace_id({"m": 1}), EmbeddingStore(), dim=3)
    out = embedder.embed(["b", "aa", "b", "ccc"], prompt="q: ")
    assert embed.calls == [["q: b", "q: aa", "q: ccc"]]  # distinct, in order of first appearance
    np.testing.assert_array_equal(out[:, 0], [4, 5, 4, 6])
    again = embedder.embed(["ccc", "dd"], prompt="q: ")
    assert embed.calls[-1] == ["q: dd"]  # the rest came from memory
    np.testing.assert_array_equal(again[:, 0], [6, 5])
    embedder.embed(["ccc"])  # another prompt: another key
    assert embed.calls[-1] == ["ccc"]
    assert embedder.store.stats == {"memory_hits": 1, "disk_hits": 0, "encoded": 5}
    assert embedder.embed([]).shape == (0, 3)
    with pytest.raises(TypeError, match=r"'texts' parameter of Encoder\.encode_texts must be a list"):
        embedder.embed("one string")  # type: ignore[arg-type]


def test_remember_false_skips_the_memory_but_not_the_disk(tmp_path: Path) -> None:
    folder = tmp_path / "ns"
    embed = Recorder()
    embedder = CachedEmbedder(embed, "ns", EmbeddingStore(), dim=3, folder=folder, settings={"m": 1})
    embedder.embed(["a", "b"], remember=False)
    assert not embedder.store.memory
    embedder.embed(["a", "b"])
    assert len(embed.calls) == 1 and embedder.store.stats["disk_hits"] == 2


def test_a_call_that_stops_half_way_keeps_what_came_back(tmp_path: Path) -> None:
    folder = tmp_path / "ns"
    failing = Recorder(fail_after=2)
    embedder = CachedEmbedder(failing, "ns", EmbeddingStore(), folder=folder, settings={"m": 1})
    assert embedder.dim is None and embedder.store.disk is None  # no dimension, no disk cache yet
    with pytest.raises(ConnectionError, match="server gone"):
        embedder.embed(["a", "bb", "ccc", "dddd"])
    # the first answer told the dimension: the disk cache is attached and holds the two vectors
    assert embedder.dim == 3 and json.loads((folder / "namespace.json").read_text())["dim"] == 3
    assert embedder.store.stats["encoded"] == 2 and len(embedder.store.memory) == 2

    # the next run: the dimension comes from the cache folder, only the rest is embedded
    embed = Recorder()
    resumed = CachedEmbedder(embed, "ns", EmbeddingStore(), folder=folder, settings={"m": 1})
    assert resumed.dim == 3 and resumed.store.disk is not None
    out = resumed.embed(["a", "bb", "ccc", "dddd"])
    assert embed.calls == [["ccc", "dddd"]] and resumed.store.stats["disk_hits"] == 2
    np.testing.assert_array_equal(out[:, 0], [1, 2, 3, 4])


def test_a_changed_dimension_is_refused_before_anything_is_stored() -> None:
    seen: list[tuple[int, int | None]] = []

    def on_dim(dim: int, known: int | None) -> None:
        seen.append((dim, known))
        if known is not None and dim != known:
            raise LookupError(f"{dim} after {known}")

    embedder = CachedEmbedder(Recorder(dim=3), "ns", EmbeddingStore(), on_dim=on_dim)
    embedder.embed(["a"])
    embedder._embed = Recorder(dim=4)
    with pytest.raises(LookupError, match="4 after 3"):
        embedder.embed(["b"])
    assert seen == [(3, None), (4, 3)] and embedder.store.stats["encoded"] == 1
    plain = CachedEmbedder(Recorder(dim=4), "ns", EmbeddingStore(), dim=3)
    with pytest.raises(RuntimeError, match="4-dimensional embeddings, earlier 3"):
        plain.embed(["b"])


def test_no_mixin_reads_what_only_its_host_sets() -> None:
    """The one mixin left, mteb's ``encode``, declares what it needs as abstract methods and reads nothing else."""
    import ast

    import rumteb.models
    from rumteb.models._inputs import MtebEncodeMixin

    assert MtebEncodeMixin.__abstractmethods__ == frozenset({"encode_texts", "get_prompt"})
    package = Path(rumteb.models.__file__).parent
    mixins = {}
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Mixin"):
                mixins[node.name] = {
                    sub.attr
                    for sub in ast.walk(node)
                    if isinstance(sub, ast.Attribute)
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id == "self"
                }
    assert set(mixins) == {"MtebEncodeMixin"}
    assert mixins["MtebEncodeMixin"] <= set(vars(MtebEncodeMixin))


def test_one_backend_protocol_and_the_encoder_holds_one(tiny_model_path: Path) -> None:
    from rumteb.models import Encoder
    from rumteb.models.runtime import Backend, RayPool, Runtime, WorkerPool

    members = {"encode_many", "close"}
    for engine in (Runtime, WorkerPool, RayPool):
        assert members <= set(vars(engine)), engine
    assert set(Backend.__annotations__) == {"max_tokens"}

    encoder = Encoder(tiny_model_path, device="cpu", precision="fp32")
    assert isinstance(encoder._backend, Runtime)
    texts = ["мама мыла раму", "привет", "мама мыла раму"]
    expected = encoder.encode_texts(texts)
    batches = [encoder._model.tokenizer(["привет"], return_attention_mask=False)["input_ids"]]
    ids = np.asarray(batches[0][0], dtype=np.int32)
    counted: list[int] = []
    (vector,) = encoder._backend.encode_many([(ids, np.asarray([ids.size]))], None, counted.append)
    assert counted == [1]
    np.testing.assert_allclose(vector[0], expected[1], rtol=1e-6, atol=1e-6)
    encoder.close()
    encoder.close()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        encoder.encode_texts(["новый текст"])


def test_an_encoder_goes_with_its_last_reference(tiny_model_path: Path) -> None:
    """No reference cycle through its parts: dropping the encoder frees its model at once, not at the next
    garbage collection (on a GPU, that memory is needed by the next model)."""
    import gc
    import weakref

    from rumteb.models import Encoder

    gc.disable()
    try:
        encoder = Encoder(tiny_model_path, device="cpu", precision="fp32")
        encoder.encode_texts(["мама мыла раму"])
        gone = weakref.ref(encoder._backend)
        del encoder
        assert gone() is None
    finally:
        gc.enable()
