"""A miniature offline ruMTEB: a small Hub-layout mirror for every dataset of ruMTEB v1 and v1.1.

Texts are short Russian sentences, a few dozen rows per split: enough for every evaluator to run (classification
needs 8 training rows per label, clustering a few labels, multilabel kNN a few neighbours).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import rumteb
from _helpers import mirror_for_task
from rumteb.tasks import TASKS_BY_NAME

_TOPICS = ["спорт", "политика", "экономика", "наука"]
_NOUNS = ["команда", "министр", "рынок", "учёный", "город", "школа", "завод", "театр"]
_VERBS = ["объявил", "получил", "открыл", "изучает", "построил", "закрыл", "выиграл", "обсуждает"]


def _sentence(rng: random.Random, topic: str) -> str:
    return f"{rng.choice(_NOUNS).capitalize()} {rng.choice(_VERBS)} новость про {topic} номер {rng.randrange(1000)}."


def _labelled(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        label = i % len(_TOPICS)
        rows.append({"text": _sentence(rng, _TOPICS[label]), "label": label})
    return rows


def _pairs(rng: random.Random, n: int, score: Any) -> list[dict[str, Any]]:
    return [
        {"sentence1": _sentence(rng, _TOPICS[i % 4]), "sentence2": _sentence(rng, _TOPICS[i % 4]), **score(i)}
        for i in range(n)
    ]


def _retrieval(rng: random.Random, split: str, prefix: str, reranking: bool) -> dict[str, Any]:
    corpus = [
        {"id": f"d{i}", "title": _TOPICS[i % 4], "text": _sentence(rng, _TOPICS[i % 4])} for i in range(40)
    ]
    queries = [{"id": f"q{i}", "text": f"что нового про {_TOPICS[i % 4]}?"} for i in range(8)]
    qrels = [
        {"query-id": f"q{i}", "corpus-id": f"d{i + 4 * k}", "score": 1} for i in range(8) for k in range(2)
    ]
    configs = {
        f"{prefix}corpus": {split: corpus},
        f"{prefix}queries": {split: queries},
        (f"{prefix}qrels" if prefix else "default"): {split: qrels},
    }
    if reranking:
        top = [{"query-id": f"q{i}", "corpus-ids": [f"d{j}" for j in range(i, 40, 3)]} for i in range(8)]
        configs[f"{prefix}top_ranked"] = {split: top}
    return configs


def _configs(name: str, rng: random.Random) -> dict[str, Any]:
    task = rumteb.get_task(name)
    kind, splits = task.metadata.type, list(task.metadata.eval_splits)
    if name.startswith("Massive"):
        rows = {
            s: [{**r, "lang": lang} for lang in ("ru", "en") for r in _labelled(rng, 40)]
            for s in ("train", *splits)
        }
        return {"default": rows}
    if kind == "Classification":
        return {"default": {"train": _labelled(rng, 48), **{s: _labelled(rng, 32) for s in splits}}}
    if kind == "Clustering":
        rows = _labelled(rng, 40)
        if name == "GeoreviewClusteringP2P":
            rows = [{"sentences": r["text"], "labels": r["label"]} for r in rows]
        return {"default": {"test": rows}}
    if kind == "MultilabelClassification":

        def multi(n: int) -> list[dict[str, Any]]:
            return [
                {"text": r["text"], "label": [r["label"], (r["label"] + 1) % 4][: 1 + r["label"] % 2]}
                for r in _labelled(rng, n)
            ]

        return {"default": {"train": multi(60), "test": multi(24)}}
    if kind == "PairClassification":
        return {"default": {s: _pairs(rng, 30, lambda i: {"labels": i % 2}) for s in splits}}
    if kind == "STS":
        if name == "RUParaPhraserSTS":
            pairs = _pairs(rng, 30, lambda i: {"score": i % 3 - 1})
            return {
                "default": {
                    "test": [
                        {"text_1": p["sentence1"], "text_2": p["sentence2"], "class": p["score"]}
                        for p in pairs
                    ]
                }
            }
        low, high = task.min_score, task.max_score  # type: ignore[attr-defined]
        score = lambda i: {"score": float(low + (i % (high - low + 1)))}  # noqa: E731
        if name == "STS22":
            return {
                "default": {
                    "test": [{**p, "lang": lang} for lang in ("ru", "de") for p in _pairs(rng, 20, score)]
                }
            }
        return {"default": {s: _pairs(rng, 30, score) for s in splits}}
    prefix = "ru-" if task.metadata.is_multilingual else ""
    return _retrieval(rng, splits[0], prefix, reranking=kind == "Reranking")


def build_mini_rumteb(root: Path, names: list[str] | None = None) -> Path:
    """Write the miniature mirror of the given tasks (default: every rumteb task) under ``root``."""
    done: set[str] = set()
    for name in names or list(TASKS_BY_NAME):
        path = rumteb.get_task(name).metadata.dataset["path"]
        if path in done:  # RuSciBench classification and clustering share a dataset
            continue
        done.add(path)
        mirror_for_task(root, name, _configs(name, random.Random(name)))
    return root
