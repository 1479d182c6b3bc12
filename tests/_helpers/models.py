"""Test helpers for the model layer: a tiny transformers model per architecture, XQuAD-ru retrieval data, and an
encoder without its search methods (so that mteb runs its own search)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from _helpers import read_jsonl


def xquad_configs(shared: Path, n_queries: int, candidates: int | None) -> dict[str, Any]:
    folder = shared / "extra" / "xquad_retrieval" / "ru"
    corpus = [
        {"id": r["id"], "title": r["title"].replace("_", " "), "text": " ".join(r["text"].split()[:60])}
        for r in read_jsonl(folder / "corpus.jsonl")
    ]
    queries = read_jsonl(folder / "queries.jsonl")[::7][:n_queries]
    relevant = {r["query-id"]: r["corpus-id"] for r in read_jsonl(folder / "qrels.jsonl")}
    configs: dict[str, Any] = {
        "corpus": {"test": corpus},
        "queries": {"test": [{"id": q["id"], "text": q["text"]} for q in queries]},
        "default": {
            "test": [{"query-id": q["id"], "corpus-id": relevant[q["id"]], "score": 1} for q in queries]
        },
    }
    if candidates:
        ids = [doc["id"] for doc in corpus]
        configs["top_ranked"] = {
            "test": [
                {
                    "query-id": q["id"],
                    "corpus-ids": [
                        relevant[q["id"]],
                        *[i for i in ids[:candidates] if i != relevant[q["id"]]],
                    ],
                }
                for q in queries
            ]
        }
    return configs


class PlainEncoder:
    """Our encoder without its search methods: mteb falls back to its own SearchEncoderWrapper."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.mteb_model_meta = encoder.mteb_model_meta

    def encode(self, *args: Any, **kwargs: Any) -> Any:
        return self.encoder.encode(*args, **kwargs)

    def similarity(self, a: Any, b: Any) -> Any:
        return self.encoder.similarity(a, b)

    def similarity_pairwise(self, a: Any, b: Any) -> Any:
        return self.encoder.similarity_pairwise(a, b)


def tiny_hf_model(kind: str, folder: Path, tokenizer_dir: Path) -> Path:
    from transformers import (
        AutoTokenizer,
        BertConfig,
        BertModel,
        DistilBertConfig,
        DistilBertModel,
        RobertaConfig,
        RobertaModel,
        XLMRobertaConfig,
        XLMRobertaModel,
    )

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    common = {
        "vocab_size": len(tokenizer),
        "max_position_embeddings": 140,
        "pad_token_id": tokenizer.pad_token_id,
    }
    torch.manual_seed(1)
    if kind == "distilbert":
        model: Any = DistilBertModel(DistilBertConfig(dim=32, n_layers=2, n_heads=4, hidden_dim=64, **common))
    else:
        config_class, model_class = {
            "bert": (BertConfig, BertModel),
            "roberta": (RobertaConfig, RobertaModel),
            "xlm-roberta": (XLMRobertaConfig, XLMRobertaModel),
        }[kind]
        config = config_class(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            hidden_act="gelu_new" if kind == "roberta" else "gelu",
            **common,
        )
        model = model_class(config, add_pooling_layer=False)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
