"""Streaming exact search: equal to mteb's default search (real data, 200k synthetic documents with exact ties),
no per-hit reads of a ``datasets`` column, and memory bounded by the chunk, not the corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mteb
import numpy as np
import pytest
from _helpers import mirror_for_task
from _helpers.models import PlainEncoder, xquad_configs

import rumteb
from rumteb.models import Encoder
from rumteb.models.runtime._memory import chunk_rows, parse_size
from rumteb.models.search import StreamingSearch
from rumteb.models.search import _topk as search


def _mteb_default_search(
    ids: list[str], vectors: np.ndarray, queries: np.ndarray, top_k: int
) -> dict[str, dict[str, float]]:
    """mteb's own chunked search (50,000-document chunks, top_k + 1 per chunk, heaps) over fixed embeddings."""
    import datasets
    from mteb.models.search_wrappers import chunked_full_corpus_search
    from mteb.similarity_functions import dot_score

    row = {doc_id: i for i, doc_id in enumerate(ids)}

    def encode(loader: Any, **_: Any) -> np.ndarray:
        rows = [row[doc_id] for batch in loader for doc_id in batch["id"]]
        return vectors[rows]

    corpus = datasets.Dataset.from_dict({"id": ids, "text": ids})
    heaps = chunked_full_corpus_search(
        task_corpus=corpus,
        corpus_chunk_size=50_000,
        query_idx_to_id={i: f"q{i}" for i in range(len(queries))},
        query_embeddings=queries,
        task_metadata=rumteb.get_task("RiaNewsRetrieval").metadata,
        hf_subset="default",
        hf_split="test",
        top_k=top_k,
        encode_kwargs={"batch_size": 4096, "show_progress_bar": False},
        encode_fn=encode,
        similarity_fn=dot_score,
        search_k_offset=1,
    )
    return {qid: {doc: score for score, doc in heap} for qid, heap in heaps.items()}


@pytest.mark.slow
def test_streaming_top_k_equals_mteb_on_200k_documents_with_exact_ties() -> None:
    import datasets

    rng = np.random.default_rng(0)
    n_docs, n_queries, top_k, dim = 200_000, 12, 1000, 16
    # small integers: every dot product is exact in fp32, so ties are exact and frequent near the k-th place
    vectors = rng.integers(-2, 3, size=(n_docs, dim)).astype(np.float32)
    vectors[7::7] = vectors[6::7][: len(vectors[7::7])]  # neighbours that are duplicates
    vectors[150_000:150_500] = vectors[10_000:10_500]  # duplicates in another of mteb's 50k chunks
    queries = rng.integers(-2, 3, size=(n_queries, dim)).astype(np.float32)
    # ids whose sorted order is not the row order ("doc-10" < "doc-9")
    ids = [f"doc-{i}" for i in rng.permutation(n_docs)]

    expected = _mteb_default_search(ids, vectors, queries, top_k)

    corpus = datasets.Dataset.from_dict({"id": ids})
    top = search.StreamingTopK(queries, top_k, search.id_ranks(search.id_column(corpus)), "cpu", cosine=False)
    for start in range(0, n_docs, 7919):  # chunks that straddle mteb's
        top.add(vectors[start : start + 7919])
    values, rows = top.result()
    ours = {
        f"q{q}": {ids[r]: float(v) for r, v in zip(rows[q], values[q], strict=True)} for q in range(n_queries)
    }
    assert ours == expected

    # the ties are real: the k-th score is shared by documents kept and documents left out
    scores = queries @ vectors.T
    boundary_ties = 0
    for q in range(n_queries):
        kth = values[q, -1]
        boundary_ties += int((scores[q] == kth).sum() > (values[q] == kth).sum())
    assert boundary_ties >= n_queries // 2


def test_streaming_top_k_tie_rule_on_a_tiny_case() -> None:
    """Four documents with the same score, k = 2: the two largest ids win (mteb's heap rule)."""
    import datasets

    corpus = datasets.Dataset.from_dict({"id": ["b", "d", "a", "c", "e"]})
    vectors = np.array([[1.0], [1.0], [1.0], [1.0], [0.5]], dtype=np.float32)
    top = search.StreamingTopK(
        np.array([[1.0]], np.float32), 2, search.id_ranks(search.id_column(corpus)), "cpu", cosine=False
    )
    top.add(vectors[:3])
    top.add(vectors[3:])
    values, rows = top.result()
    assert [corpus["id"][int(r)] for r in rows[0]] == ["d", "c"] and values.tolist() == [[1.0, 1.0]]


@pytest.mark.usefixtures("single_threaded")
@pytest.mark.parametrize(("name", "candidates"), [("RuBQRetrieval", None), ("RuBQReranking", 12)])
def test_chunked_search_on_real_data_equals_mteb(
    tmp_path: Path,
    shared_data: Path,
    tiny_model_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    candidates: int | None,
) -> None:
    """Real Russian questions and paragraphs (XQuAD ru), the corpus cut into chunks of 7 documents."""
    root = tmp_path / "data"
    mirror_for_task(root, name, xquad_configs(shared_data, 40, candidates))
    encoder = Encoder(tiny_model_path, device="cpu", precision="fp32", prompts={"query": "вопрос: "})
    seen: list[int] = []
    original = StreamingSearch._encode_rows

    def spy(self: StreamingSearch, rows: Any, kind: str, *args: Any) -> np.ndarray:
        if kind == "document":
            seen.append(len(rows))
        return original(self, rows, kind, *args)

    monkeypatch.setattr(StreamingSearch, "corpus_chunk_rows", lambda self, device=None: 7)
    monkeypatch.setattr(StreamingSearch, "_encode_rows", spy)
    ours = mteb.evaluate(encoder, [rumteb.get_task(name, data_dir=root)], cache=None, show_progress_bar=False)
    assert max(seen) == 7 and sum(seen) == 120  # the whole corpus, in chunks
    theirs = mteb.evaluate(
        PlainEncoder(encoder), [rumteb.get_task(name, data_dir=root)], cache=None, show_progress_bar=False
    )
    a, b = ours.task_results[0].scores["test"][0], theirs.task_results[0].scores["test"][0]
    for metric in ("ndcg_at_10", "map_at_1000", "recall_at_100", "mrr_at_10", "precision_at_1"):
        assert abs(a[metric] - b[metric]) <= 1e-9, metric


def test_search_reads_no_dataset_column_per_hit(
    tmp_path: Path, shared_data: Path, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1,000 queries x top-k 1,000: results are assembled from arrays (mteb's index-backend path read the lazy id
    column once per hit: a million Arrow reads)."""
    import datasets.arrow_dataset as arrow_dataset
    import scale_retrieval

    scale_retrieval.write_corpus(tmp_path / "data", 1500, 1000, shared_data)
    encoder = Encoder(tiny_model_path, device="cpu", precision="fp32")
    reads = {"n": 0, "active": False}
    column_getitem = arrow_dataset.Column.__getitem__

    def counting(self: Any, key: Any) -> Any:
        if reads["active"]:
            reads["n"] += 1
        return column_getitem(self, key)

    original_search = Encoder.search

    def watched(self: Encoder, *args: Any, **kwargs: Any) -> Any:
        reads["active"] = True
        try:
            return original_search(self, *args, **kwargs)
        finally:
            reads["active"] = False

    monkeypatch.setattr(arrow_dataset.Column, "__getitem__", counting)
    monkeypatch.setattr(Encoder, "search", watched)
    result = mteb.evaluate(
        encoder,
        [rumteb.get_task("RiaNewsRetrieval", data_dir=tmp_path / "data")],
        cache=None,
        show_progress_bar=False,
    )
    assert result.task_results[0].scores["test"][0]["ndcg_at_10"] > 0
    # mteb's query dataloader copies the query text column row by row (1,000 reads); nothing reads per hit
    assert reads["n"] <= 1000 + 10, reads


def test_max_memory_sizes_and_chunks() -> None:
    assert (
        parse_size("4GiB") == 4 << 30 and parse_size("512MB") == 512 << 20 and parse_size("1.5g") == 3 << 29
    )
    with pytest.raises(ValueError, match=r"must be a size such as 4GiB.*Got 'lots'"):
        parse_size("lots")
    with pytest.raises(ValueError, match="at least 64MiB"):
        parse_size("1MiB")
    # a larger budget gives larger chunks; a 1024-d chunk's embeddings fit in its budget
    small, large = chunk_rows(256 << 20, 1024, "cpu"), chunk_rows(1 << 30, 1024, "cpu")
    assert small < large and large * 1024 * 4 * 2 <= 1 << 30
    with pytest.raises(ValueError, match="'max_memory' parameter of Encoder must be a size"):
        Encoder("unused", max_memory="much")


@pytest.fixture(scope="module")
def corpus_200k(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[Path, Path]:
    import scale_retrieval

    root = tmp_path_factory.mktemp("corpus_200k")
    model = scale_retrieval.build_wide_model(root / "model", shared_data)
    data = scale_retrieval.write_corpus(root / "data", 200_000, 100, shared_data, words_per_doc=(3, 6))
    return model, data


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_peak_memory_of_a_200k_document_run_is_bounded_by_the_chunk(
    corpus_200k: tuple[Path, Path], precision: str
) -> None:
    """A 1024-d model over 200,000 documents in a fresh process: the run's peak RSS over its RSS after loading
    stays far below one whole-corpus copy of the embeddings (781 MiB), which the earlier path held five times.

    bf16 (the default on CPUs with AMX) runs oneDNN's fused linear, which caches a primitive per input shape: with
    a new token count per batch this run grew by 661 MiB; row counts in buckets keep it at ~170 MiB."""
    import scale_retrieval

    model, data = corpus_200k
    out = scale_retrieval.run_worker(
        "rumteb", model, data, {"kwargs": {"max_memory": "128MiB"}, "precision": precision}
    )
    assert out["documents"] == 200_000
    whole_corpus_mib = 200_000 * 1024 * 4 / 2**20
    growth = out["peak_rss_mib"] - out["rss_after_load_mib"]
    assert growth < 0.5 * whole_corpus_mib, json.dumps(out)
    assert out["ndcg_at_10"] > 0.05, json.dumps(out)


@pytest.mark.gpu
def test_streaming_top_k_on_cuda_equals_cpu() -> None:
    import datasets

    rng = np.random.default_rng(1)
    vectors = rng.integers(-2, 3, size=(30_000, 16)).astype(np.float32)
    queries = rng.integers(-2, 3, size=(50, 16)).astype(np.float32)
    ranks = search.id_ranks(
        search.id_column(datasets.Dataset.from_dict({"id": [f"d{i}" for i in range(30_000)]}))
    )
    results = []
    for device in ("cpu", "cuda"):
        top = search.StreamingTopK(queries, 100, ranks, device, cosine=False)
        for start in range(0, len(vectors), 4096):
            top.add(vectors[start : start + 4096])
        results.append(top.result())
    assert np.array_equal(results[0][0], results[1][0]) and np.array_equal(results[0][1], results[1][1])
