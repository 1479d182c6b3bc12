"""Dataset repositories for the local Hub server (`hub_server`), built at test time from ``../shared/data``.

Each repository has two commits: the revision the rumteb task pins (so that a pull or an online run at the pinned
revision finds it), then a later ``main`` commit that drops half of every data file's rows and edits the card, so a
client that reads ``main`` instead of the pin gets other data and other scores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from _helpers import make_mirror, read_jsonl
from _helpers.hub_server import Repo

# Rows kept per split: the real rows, cut so that a run of the three tasks stays a few seconds with a tiny model.
LIMITS = {
    "TERRa": 307,
    "RUParaPhraserSTS": 300,
    "CEDRClassification/train": 400,
    "CEDRClassification/test": 200,
}
TRAIN_REPO = "rumteb-tests/paraphraser-train"
TRAIN_REVISION = hashlib.sha1(b"rumteb-tests/paraphraser-train@1").hexdigest()
MIRACL_LANGS = ("ru", "de", "fr")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _two_commits(
    work: Path,
    repo_id: str,
    revision: str,
    configs: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    features: Any = None,
) -> Repo:
    first = _files(make_mirror(work / "v1", repo_id, configs, features=features))
    halved = {
        c: {s: list(rows)[: len(rows) // 2] for s, rows in splits.items()} for c, splits in configs.items()
    }
    second = _files(make_mirror(work / "v2", repo_id, halved, features=features))
    second["README.md"] += b"\nA later commit: half of the rows.\n"
    later = hashlib.sha1(f"{repo_id}@later".encode()).hexdigest()
    return Repo(repo_id, [(revision, first), (later, second)])


def _pinned(task: str) -> tuple[str, str]:
    import rumteb

    dataset = rumteb.get_task(task).metadata.dataset
    return dataset["path"], dataset["revision"]


def task_repos(shared: Path, work: Path) -> list[Repo]:
    """TERRa, RUParaPhraserSTS and CEDRClassification in the Hub's layout and column names, from the exact slices."""
    import datasets

    text, integer = datasets.Value("string"), datasets.Value("int64")
    base = shared / "rumteb"
    terra = [
        {"sentence1": r["sentence1"], "sentence2": r["sentence2"], "labels": int(r["label"])}
        for r in read_jsonl(base / "TERRa" / "dev.jsonl")[: LIMITS["TERRa"]]
    ]
    para = [
        {
            "id": r["id"],
            "id_1": r["id_1"],
            "id_2": r["id_2"],
            "text_1": r["sentence1"],
            "text_2": r["sentence2"],
            "class": int(r["score"]),
        }
        for r in read_jsonl(base / "RUParaPhraserSTS" / "test.jsonl")[: LIMITS["RUParaPhraserSTS"]]
    ]
    cedr = {
        split: [
            {"text": r["text"], "label": [int(x) for x in r["label"]]}
            for r in read_jsonl(base / "CEDRClassification" / f"{split}.jsonl")[
                : LIMITS[f"CEDRClassification/{split}"]
            ]
        ]
        for split in ("train", "test")
    }
    para_features = {c: text for c in ("id", "id_1", "id_2", "text_1", "text_2")} | {"class": integer}
    specs = [
        ("TERRa", {"dev": terra}, {"sentence1": text, "sentence2": text, "labels": integer}),
        ("RUParaPhraserSTS", {"test": para}, para_features),
        ("CEDRClassification", cedr, {"text": text, "label": datasets.Sequence(integer)}),
    ]
    repos = []
    for task, splits, feats in specs:
        repo_id, revision = _pinned(task)
        features = {"default": datasets.Features(feats)}
        repos.append(_two_commits(work / task, repo_id, revision, {"default": splits}, features))
    return repos


def miracl_repo(work: Path) -> Repo:
    """A MIRACLRetrieval-like repository (its pinned id and revision): one config per language and part."""
    repo_id, revision = _pinned("MIRACLRetrieval")
    configs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for lang in MIRACL_LANGS:
        configs[f"{lang}-corpus"] = {
            "dev": [{"_id": f"d{i}", "title": "", "text": f"{lang} doc {i}"} for i in range(3)]
        }
        configs[f"{lang}-queries"] = {"dev": [{"_id": "q0", "text": f"{lang} query"}]}
        configs[f"{lang}-qrels"] = {"dev": [{"query-id": "q0", "corpus-id": "d1", "score": 1}]}
    return _two_commits(work / "miracl", repo_id, revision, configs)


def train_repo(shared: Path, work: Path) -> Repo:
    """A training source on the Hub: ParaPhraser's train pairs (the first 200)."""
    rows = [
        {"sentence1": r["sentence1"], "sentence2": r["sentence2"], "label": int(r["label"])}
        for r in read_jsonl(shared / "train" / "paraphraser" / "train.jsonl")[:200]
    ]
    return _two_commits(work / "train", TRAIN_REPO, TRAIN_REVISION, {"default": {"train": rows}})
