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

from _helpers import make_mirror, read_jsonl, upstream_paraphraser_rows, upstream_terra_rows
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
    terra = upstream_terra_rows(shared)[: LIMITS["TERRa"]]
    para = upstream_paraphraser_rows(shared)[: LIMITS["RUParaPhraserSTS"]]
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


# --- training sources named like the paper's (rumteb data pull --config) --------------------------------------------

STACKOVERFLOW = "IlyaGusev/ru_stackoverflow"
NEWS_COMMENTARY = "Helsinki-NLP/news_commentary"
HABR = "IlyaGusev/habr"
PIKABU = "IlyaGusev/pikabu"
SOURCE_ROWS = 48


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def source_repos(shared: Path, work: Path) -> list[Repo]:
    """Stand-ins for four of the paper's sources, with the fields their cards document, filled with real Russian
    and English text from ../shared/data:

    - ``IlyaGusev/ru_stackoverflow``: title, text_markdown and answers (a list of {text_markdown, score}); two
      commits, ``main`` the second (a ``pin-at-pull`` must lock that one);
    - ``Helsinki-NLP/news_commentary``, config ``en-ru``: id and translation {en, ru} (a Translation feature);
    - ``IlyaGusev/habr``: a loading script ``habr.py`` beside ``habr.jsonl`` (datasets refuses the whole repository;
      ``data_files: [habr.jsonl]`` reads it);
    - ``IlyaGusev/pikabu``: title and body, not the card's text_markdown (the column mismatch).
    """
    import json

    import datasets

    para = [r for r in read_jsonl(shared / "train" / "paraphraser" / "train.jsonl") if r["label"] == 1]
    ru = read_jsonl(shared / "train" / "stsb_multi_mt" / "ru-train.jsonl")[:SOURCE_ROWS]
    en = read_jsonl(shared / "train" / "stsb_multi_mt" / "en-train.jsonl")[:SOURCE_ROWS]
    questions = [
        {
            "question_id": i,
            "title": r["sentence1"],
            "text_markdown": r["sentence2"],
            "answers": [{"text_markdown": r["sentence2"], "score": 1}, {"text_markdown": "", "score": 0}],
        }
        for i, r in enumerate(para[:SOURCE_ROWS])
    ]
    old = _files(make_mirror(work / "so-1", STACKOVERFLOW, {"default": {"train": questions[:10]}}))
    new = _files(make_mirror(work / "so-2", STACKOVERFLOW, {"default": {"train": questions}}))
    pairs = [
        {"id": str(i), "translation": {"en": e["sentence1"], "ru": r["sentence1"]}}
        for i, (e, r) in enumerate(zip(en, ru, strict=True))
    ]
    news_features = datasets.Features(
        {"id": datasets.Value("string"), "translation": datasets.Translation(languages=["en", "ru"])}
    )
    news = _files(
        make_mirror(
            work / "news", NEWS_COMMENTARY, {"en-ru": {"train": pairs}}, features={"en-ru": news_features}
        )
    )
    articles = [
        {"id": i, "title": r["sentence1"], "lead_markdown": r["sentence2"], "tags": ["a", "b"]}
        for i, r in enumerate(para[SOURCE_ROWS : 2 * SOURCE_ROWS])
    ]
    habr = {
        "README.md": b"---\nlanguage: [ru]\n---\n# Habr stand-in\n",
        "habr.py": b"# a loading script, as the real repository has\n",
        "habr.jsonl": "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles).encode(),
    }
    posts = [{"title": r["sentence1"], "body": r["sentence2"]} for r in para[:SOURCE_ROWS]]
    pikabu = _files(make_mirror(work / "pikabu", PIKABU, {"default": {"train": posts}}))
    return [
        Repo(STACKOVERFLOW, [(_sha("so@1"), old), (_sha("so@2"), new)]),
        Repo(NEWS_COMMENTARY, [(_sha("news@1"), news)]),
        Repo(HABR, [(_sha("habr@1"), habr)]),
        Repo(PIKABU, [(_sha("pikabu@1"), pikabu)]),
    ]
