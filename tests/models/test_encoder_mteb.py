"""The Encoder inside mteb: protocols, prompts, differential scores against sentence-transformers, retrieval search,
and the bf16 quality gate on the exact real ruMTEB slices."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import mteb
import numpy as np
import pytest
from _helpers import builtin_task_on_mirror, main_score, mirror_for_task, read_jsonl
from _helpers.mini_rumteb import build_mini_rumteb
from _helpers.models import PlainEncoder, xquad_configs
from mteb.types import PromptType

import rumteb
from rumteb.models import Encoder


def _evaluate(model: Any, task: Any) -> float:
    return main_score(mteb.evaluate(model, [task], cache=None, show_progress_bar=False))


def _st(path: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu")


# --------------------------------------------------------------------------------------------------------------
# Protocols and prompts
# --------------------------------------------------------------------------------------------------------------


def test_implements_mteb_protocols(tiny_model_path: Path) -> None:
    from mteb.models import EncoderProtocol, SearchProtocol

    encoder = Encoder(tiny_model_path, device="cpu")
    assert isinstance(encoder, EncoderProtocol) and isinstance(encoder, SearchProtocol)


def test_prompt_priority_is_mteb_s(tiny_model_path: Path) -> None:
    prompts = {
        "TERRa-query": "1 ",
        "TERRa": "2 ",
        "PairClassification-query": "3 ",
        "PairClassification": "4 ",
        "query": "5 ",
    }
    meta = rumteb.get_task("TERRa").metadata
    for expected in ("1 ", "2 ", "3 ", "4 ", "5 "):
        encoder = Encoder(tiny_model_path, device="cpu", prompts=prompts)
        assert encoder.get_prompt(meta, PromptType.query) == expected
        prompts = {k: v for k, v in prompts.items() if v != expected}
    encoder = Encoder(tiny_model_path, device="cpu", prompts={"query": "q: ", "STS": "s: "})
    assert encoder.get_prompt(meta, None) is None
    assert encoder.get_prompt(rumteb.get_task("STS22").metadata, PromptType.document) == "s: "


def test_encode_reads_the_dataloader_in_order_with_the_task_prompt(tiny_model_path: Path) -> None:
    import datasets
    from mteb._create_dataloaders import create_dataloader

    task = rumteb.get_task("TERRa")
    encoder = Encoder(
        tiny_model_path, device="cpu", precision="fp32", prompts={"PairClassification": "пара: "}
    )
    texts = [f"предложение номер {i}" for i in range(70)]
    loader = create_dataloader(
        datasets.Dataset.from_dict({"text": texts}), task_metadata=task.metadata, batch_size=16
    )
    out = encoder.encode(
        loader, task_metadata=task.metadata, hf_split="dev", hf_subset="default", batch_size=16
    )
    np.testing.assert_array_equal(out, encoder.encode_texts(texts, prompt="пара: "))
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        encoder.encode(loader, task_metadata=task.metadata, hf_split="dev", hf_subset="default", convert=True)
    with pytest.raises(ValueError, match="'precision' encode argument"):
        encoder.encode(
            loader, task_metadata=task.metadata, hf_split="dev", hf_subset="default", precision="int8"
        )


# --------------------------------------------------------------------------------------------------------------
# Differential: our encoder and sentence-transformers score alike under mteb
# --------------------------------------------------------------------------------------------------------------


def _terra_mirror(root: Path, shared: Path, rows: int) -> Path:
    data = read_jsonl(shared / "rumteb" / "TERRa" / "dev.jsonl")[:rows]
    pairs = [
        {"sentence1": r["sentence1"], "sentence2": r["sentence2"], "labels": int(r["label"])} for r in data
    ]
    mirror_for_task(root, "TERRa", {"default": {"dev": pairs}})
    return root


def test_terra_score_equals_sentence_transformers_minilm(
    tmp_path: Path, shared_data: Path, minilm_path: Path
) -> None:
    root = _terra_mirror(tmp_path / "data", shared_data, rows=80)
    ours = _evaluate(
        Encoder(minilm_path, device="cpu", precision="fp32"), rumteb.get_task("TERRa", data_dir=root)
    )
    reference = _evaluate(_st(minilm_path), rumteb.get_task("TERRa", data_dir=root))
    assert math.isfinite(ours) and abs(ours - reference) <= 1e-6


TYPES = {
    "PairClassification": "TERRa",
    "STS": "RUParaPhraserSTS",
    "Classification": "GeoreviewClassification",
    "MultilabelClassification": "CEDRClassification",
    "Clustering": "GeoreviewClusteringP2P",
    "Retrieval": "RuBQRetrieval",
    "Reranking": "RuBQReranking",
    "Reranking (multilingual)": "MIRACLReranking",
}


@pytest.fixture(scope="module")
def mini_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_mini_rumteb(tmp_path_factory.mktemp("mini"), list(TYPES.values()))


@pytest.mark.usefixtures("single_threaded")
@pytest.mark.parametrize("name", list(TYPES.values()), ids=list(TYPES))
def test_every_task_type_scores_as_sentence_transformers(
    mini_mirror: Path, tiny_model_path: Path, name: str
) -> None:
    ours = _evaluate(
        Encoder(tiny_model_path, device="cpu", precision="fp32"), rumteb.get_task(name, data_dir=mini_mirror)
    )
    reference = _evaluate(_st(tiny_model_path), builtin_task_on_mirror(name, mini_mirror))
    assert math.isfinite(ours) and abs(ours - reference) <= 1e-6, (ours, reference)


# --------------------------------------------------------------------------------------------------------------
# Retrieval: device exact search equals mteb's chunked CPU search (real XQuAD-ru text)
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("single_threaded")
@pytest.mark.parametrize(("name", "candidates"), [("RuBQRetrieval", None), ("RuBQReranking", 12)])
def test_device_search_equals_mteb_search(
    tmp_path: Path, shared_data: Path, tiny_model_path: Path, name: str, candidates: int | None
) -> None:
    from mteb.models import EncoderProtocol, SearchProtocol

    root = tmp_path / "data"
    mirror_for_task(root, name, xquad_configs(shared_data, 40, candidates))
    encoder = Encoder(tiny_model_path, device="cpu", precision="fp32", prompts={"query": "вопрос: "})
    plain = PlainEncoder(encoder)
    assert isinstance(plain, EncoderProtocol) and not isinstance(plain, SearchProtocol)
    ours = mteb.evaluate(encoder, [rumteb.get_task(name, data_dir=root)], cache=None, show_progress_bar=False)
    encoded_once = encoder.stats["encoded"]
    theirs = mteb.evaluate(plain, [rumteb.get_task(name, data_dir=root)], cache=None, show_progress_bar=False)
    # the streamed corpus stays out of the in-run memory (bounded memory): mteb's path encodes it again, queries
    # come from memory
    corpus_size = len(xquad_configs(shared_data, 40, candidates)["corpus"]["test"])
    assert encoder.stats["encoded"] == encoded_once + corpus_size
    (ours_result,), (their_result,) = ours.task_results, theirs.task_results
    a, b = ours_result.scores["test"][0], their_result.scores["test"][0]
    for metric in ("ndcg_at_10", "map_at_1000", "recall_at_100", "mrr_at_10"):
        assert abs(a[metric] - b[metric]) <= 1e-9, metric


# --------------------------------------------------------------------------------------------------------------
# Quality gate: precision="auto" (bf16 here) within 0.005 of fp32 on the exact real slices
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_auto_precision_quality_gate_on_real_slices(
    tmp_path: Path, shared_data: Path, minilm_path: Path
) -> None:
    import real_mirror

    names = real_mirror.build(tmp_path / "real", shared_data)
    fp32 = Encoder(minilm_path, device="cpu", precision="fp32")
    auto = Encoder(minilm_path, device="cpu", precision="auto")
    gaps = {}
    for name in names:
        scores = [
            _evaluate(model, rumteb.get_task(name, data_dir=tmp_path / "real")) for model in (fp32, auto)
        ]
        gaps[name] = abs(scores[0] - scores[1])
    assert max(gaps.values()) <= 0.005, gaps
