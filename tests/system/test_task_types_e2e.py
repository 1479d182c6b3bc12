"""End to end, offline, one or two tasks of each of ruMTEB's 7 task types (plus the multilingual loaders).

Each test writes a small Hub-layout mirror of the task's pinned dataset (real Russian text from ../shared/data, or
short synthetic Russian sentences), runs our task on it through ``mteb.evaluate`` with a tiny random BERT, and checks
that the main score is finite, inside its valid range, and equal to the score of mteb's built-in task on the same
files. Every rumteb ``dataset_transform`` and evaluator setting is exercised on data where it matters.
"""

from __future__ import annotations

import math
import os
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mteb
import numpy as np
import pytest
from _helpers import builtin_task_on_mirror, main_score, mirror_for_task, read_jsonl
from sentence_transformers import SentenceTransformer

import rumteb

#: The range every main score of ruMTEB lives in.
SCORE_RANGE = {
    "accuracy": (0.0, 1.0),
    "v_measure": (0.0, 1.0),
    "max_ap": (0.0, 1.0),
    "map_at_1000": (0.0, 1.0),
    "ndcg_at_10": (0.0, 1.0),
    "cosine_spearman": (-1.0, 1.0),
}


# --------------------------------------------------------------------------------------------------------------
# Running and comparing
# --------------------------------------------------------------------------------------------------------------

#: mteb evaluator settings (class attributes) that decide a score; ours must equal the built-in task's.
EVALUATOR_SETTINGS = (
    "n_experiments",
    "samples_per_label",
    "train_split",
    "is_cross_validation",
    "input_column_name",
    "label_column_name",
    "max_eval_samples",
    "max_document_to_embed",
    "max_fraction_of_documents_to_embed",
    "max_documents_per_cluster",
    "n_clusters",
    "input1_column_name",
    "input2_column_name",
    "min_score",
    "max_score",
    "ignore_identical_ids",
    "skip_first_result",
    "k_values",
    "fast_loading",
)


pytestmark = pytest.mark.usefixtures("single_threaded")


def _evaluate(task: mteb.AbsTask, model_path: Path) -> Any:
    """``mteb.evaluate`` with a fresh model instance (evaluators keep per-instance random state), no cache."""
    model = SentenceTransformer(str(model_path), device="cpu")
    return mteb.evaluate(model, [task], cache=None, show_progress_bar=False)


def _split_scores(results: Any) -> dict[tuple[str, str], float]:
    """(split, hf_subset) -> main score of the single task in ``results``."""
    (task_result,) = results.task_results
    return {
        (split, entry["hf_subset"]): float(entry["main_score"])
        for split, entries in task_result.scores.items()
        for entry in entries
    }


def _settings(task: mteb.AbsTask) -> dict[str, Any]:
    settings = {name: getattr(task, name, None) for name in EVALUATOR_SETTINGS}
    evaluator = getattr(task, "evaluator_model", None)
    if evaluator is not None:
        params = {k: v for k, v in evaluator.get_params().items() if k != "random_state"}
        settings["evaluator_model"] = (type(evaluator).__name__, params)
    settings["hf_subsets"] = list(task.hf_subsets)
    settings["eval_splits"] = list(task.eval_splits)
    settings["main_score"] = task.metadata.main_score
    settings["revision"] = task.metadata.dataset["revision"]
    return settings


def _assert_matches_builtin(
    name: str, data_dir: Path, model_path: Path, adjust: Callable[[mteb.AbsTask], None] | None = None
) -> Any:
    """Run our task and mteb's built-in one on the same mirror; check settings, range and agreement.

    Args:
        adjust: Applied to both task instances alike before they run (after their settings are compared).

    Returns:
        Our ``mteb.evaluate`` result.
    """
    ours_task, reference_task = (
        rumteb.get_task(name, data_dir=data_dir),
        builtin_task_on_mirror(name, data_dir),
    )
    assert _settings(ours_task) == _settings(reference_task)
    if adjust is not None:
        adjust(ours_task)
        adjust(reference_task)
    ours = _evaluate(ours_task, model_path)
    reference = _evaluate(reference_task, model_path)

    (task_result,) = ours.task_results
    assert task_result.task_name == name
    metric = ours_task.metadata.main_score
    low, high = SCORE_RANGE[metric]
    score = main_score(ours)
    assert math.isfinite(score), f"{name}: main score {score}"
    assert low <= score <= high, f"{name}: {metric} {score} outside [{low}, {high}]"
    for entries in task_result.scores.values():
        for entry in entries:
            assert entry["main_score"] == entry[metric]

    ours_by_split, reference_by_split = _split_scores(ours), _split_scores(reference)
    assert ours_by_split.keys() == reference_by_split.keys()
    for key, value in ours_by_split.items():
        assert value == pytest.approx(reference_by_split[key], abs=1e-9), f"{name} {key}"
    assert score == pytest.approx(main_score(reference), abs=1e-9)
    return ours


def _words(text: str, limit: int) -> str:
    return " ".join(text.split()[:limit])


def _shuffled(rows: list[dict[str, Any]], seed: int = 0) -> list[dict[str, Any]]:
    rows = list(rows)
    random.Random(seed).shuffle(rows)
    return rows


# --------------------------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------------------------


def _headline_mirror(root: Path, shared: Path) -> Path:
    """HeadlineClassification with 2,100 test rows (the 2,048-row stratified subsample really cuts) of very short
    real Russian messages, and a small train split."""
    folder = shared / "rumteb" / "InappropriatenessClassification"
    test = [
        {"text": _words(r["text"], 6), "label": r["label"]} for r in read_jsonl(folder / "test.jsonl")[:2100]
    ]
    train = [
        {"text": _words(r["text"], 6), "label": r["label"]}
        for r in _shuffled(read_jsonl(folder / "validation.jsonl"))
    ]
    mirror_for_task(root, "HeadlineClassification", {"default": {"train": train[:120], "test": test}})
    return root


def test_headline_classification_subsamples_test_like_mteb(
    tmp_path: Path, shared_data: Path, tiny_model_path: Path
) -> None:
    data_dir = _headline_mirror(tmp_path / "data", shared_data)

    ours = rumteb.get_task("HeadlineClassification", data_dir=data_dir)
    ours.load_data()
    reference = builtin_task_on_mirror("HeadlineClassification", data_dir)
    reference.load_data()
    test = ours.dataset["test"]
    assert len(test) == 2048
    assert len(ours.dataset["train"]) == 120
    assert list(test["text"]) == list(reference.dataset["test"]["text"])
    assert list(test["label"]) == list(reference.dataset["test"]["label"])
    # Stratified: each label keeps its share of the 2,100 rows, to within one row.
    full = Counter(
        str(r["label"])
        for r in read_jsonl(shared_data / "rumteb" / "InappropriatenessClassification" / "test.jsonl")[:2100]
    )
    names = test.features["label"].names
    kept = Counter(names[i] for i in test["label"])
    for label, count in full.items():
        assert abs(kept[label] - count * 2048 / 2100) <= 1

    # mteb scores a subsampled 2,048-row split slowly (~8 s per experiment here: sklearn reads the label column row
    # by row through the split's index mapping), so run one experiment instead of 10, on both sides alike.
    _assert_matches_builtin(
        "HeadlineClassification",
        data_dir,
        tiny_model_path,
        adjust=lambda task: setattr(task, "n_experiments", 1),
    )


_FILMS = [
    "«Брат»",
    "«Сталкер»",
    "«Левиафан»",
    "«Солярис»",
    "«Легенда №17»",
    "«Движение вверх»",
    "«Стиляги»",
    "«Ёлки»",
]
_REVIEWS = {
    0: [
        "{f} — скучное и затянутое кино, еле досидел до конца.",
        "Ужасный сценарий, фильм {f} меня разочаровал.",
        "Пожалел о потраченном вечере: {f} смотреть невозможно.",
        "В фильме {f} нет ни сюжета, ни актёрской игры.",
    ],
    1: [
        "{f} — обычный фильм, один раз посмотреть можно.",
        "В фильме {f} есть удачные сцены, но есть и слабые.",
        "Ничего особенного, {f} на любителя.",
        "Фильм {f} смотрится ровно, без сильных эмоций.",
    ],
    2: [
        "{f} — отличный фильм, пересматриваю каждый год.",
        "Прекрасная игра актёров, {f} держит в напряжении до самого конца.",
        "Очень понравился фильм {f}: красивая музыка и живые диалоги.",
        "Фильм {f} тронул до слёз, всем советую.",
    ],
}


def test_kinopoisk_classification_matches_mteb(tmp_path: Path, tiny_model_path: Path) -> None:
    def rows(templates: slice) -> list[dict[str, Any]]:
        return [
            {"text": template.format(f=film), "label": label}
            for label, texts in _REVIEWS.items()
            for template in texts[templates]
            for film in _FILMS
        ]

    train, test = rows(slice(0, 2)), rows(slice(2, 4))
    data_dir = tmp_path / "data"
    mirror_for_task(data_dir, "KinopoiskClassification", {"default": {"train": train, "test": test}})

    task = rumteb.get_task("KinopoiskClassification", data_dir=data_dir)
    task.load_data()
    assert len(task.dataset["test"]) == len(test) == 48  # no transform: the test split is kept whole

    _assert_matches_builtin("KinopoiskClassification", data_dir, tiny_model_path)


# --------------------------------------------------------------------------------------------------------------
# Clustering
# --------------------------------------------------------------------------------------------------------------


def test_ruscibench_grnti_clustering_renames_subsamples_and_matches_mteb(
    tmp_path: Path, shared_data: Path, tiny_model_path: Path
) -> None:
    # Short real Russian messages, each under its first sensitive topic (18: none) as the rubric, in the Hub's raw
    # columns ``text, label``; 2,100 test rows, so the stratified cut to 2,048 really happens.
    folder = shared_data / "rumteb" / "SensitiveTopicsClassification"
    rows = [
        {"text": _words(r["text"], 10), "label": r["label"][0] if r["label"] else 18}
        for r in _shuffled(read_jsonl(folder / "test.jsonl") + read_jsonl(folder / "validation.jsonl"))
    ]
    test, train = rows[:2100], rows[2100:]
    assert min(Counter(r["label"] for r in test).values()) >= 2  # stratifiable
    data_dir = tmp_path / "data"
    mirror_for_task(data_dir, "RuSciBenchGRNTIClusteringP2P", {"default": {"train": train, "test": test}})

    ours = rumteb.get_task("RuSciBenchGRNTIClusteringP2P", data_dir=data_dir)
    ours.load_data()
    reference = builtin_task_on_mirror("RuSciBenchGRNTIClusteringP2P", data_dir)
    reference.load_data()
    for split in ("train", "test"):
        assert set(ours.dataset[split].column_names) == {"sentences", "labels"}
    assert len(ours.dataset["train"]) == len(train)
    assert len(ours.dataset["test"]) == 2048
    assert list(ours.dataset["test"]["sentences"]) == list(reference.dataset["test"]["sentences"])
    assert list(ours.dataset["test"]["labels"]) == list(reference.dataset["test"]["labels"])

    _assert_matches_builtin("RuSciBenchGRNTIClusteringP2P", data_dir, tiny_model_path)


_ORGANISATIONS = {
    "Кафе": [
        "Вкусный кофе и свежая выпечка, бариста приветливый.",
        "Суп был холодный, а официант долго не подходил.",
        "Уютный зал, большие порции, цены приемлемые.",
        "Завтраки подают до обеда, сырники просто отличные.",
        "Десерты вкусные, но музыка играет слишком громко.",
        "Пицца пришла подгоревшая, больше сюда не пойду.",
    ],
    "Аптека": [
        "Фармацевт помог подобрать недорогой аналог лекарства.",
        "Нужного препарата не оказалось, обещали привезти завтра.",
        "Работают круглосуточно, очередь всегда небольшая.",
        "Цены на витамины выше, чем в соседней аптеке.",
        "Вежливые провизоры, всё подробно объяснили про дозировку.",
        "Есть скидка для пенсионеров по социальной карте.",
    ],
    "Автосервис": [
        "Быстро поменяли масло и фильтры, цена как на сайте.",
        "Мастера нашли неисправность подвески за полчаса.",
        "Шиномонтаж без записи, ждал больше двух часов.",
        "Машину вернули грязной, а счёт оказался больше обещанного.",
        "Хорошие мастера, починили тормоза и дали гарантию.",
        "Диагностику двигателя сделали честно, лишнего не навязывали.",
    ],
    "Гостиница": [
        "Номер чистый, кровать удобная, завтрак включён в стоимость.",
        "Администратор на ресепшене заселил нас раньше времени.",
        "В номере было шумно, окна выходят на трассу.",
        "Отличное расположение, до вокзала пять минут пешком.",
        "Полотенца меняли каждый день, персонал вежливый.",
        "Wi-Fi в номерах почти не работает, душ протекает.",
    ],
    "Парикмахерская": [
        "Мастер сделала отличную стрижку, учла все пожелания.",
        "Записали на удобное время, покраска получилась ровной.",
        "Стригли наспех, чёлка вышла кривой.",
        "Недорого и быстро, мужская стрижка за двадцать минут.",
        "Уютный салон, предложили чай, пока ждал своей очереди.",
        "Барбер аккуратно подравнял бороду, приду ещё.",
    ],
}


def test_georeview_clustering_matches_mteb(tmp_path: Path, tiny_model_path: Path) -> None:
    openers = ["", "Были здесь в субботу. ", "Заходил после работы. "]
    rows = [
        {"sentences": opener + review, "labels": category}
        for category, reviews in _ORGANISATIONS.items()
        for review in reviews
        for opener in openers
    ]
    data_dir = tmp_path / "data"
    mirror_for_task(data_dir, "GeoreviewClusteringP2P", {"default": {"test": _shuffled(rows)}})

    _assert_matches_builtin("GeoreviewClusteringP2P", data_dir, tiny_model_path)


# --------------------------------------------------------------------------------------------------------------
# Multilabel classification
# --------------------------------------------------------------------------------------------------------------


def test_sensitive_topics_multilabel_matches_mteb(
    tmp_path: Path, shared_data: Path, tiny_model_path: Path
) -> None:
    folder = shared_data / "rumteb" / "SensitiveTopicsClassification"

    def rows(name: str, n: int) -> list[dict[str, Any]]:
        return [
            {"text": _words(r["text"], 25), "label": list(r["label"])}
            for r in _shuffled(read_jsonl(folder / name))[:n]
        ]

    train, test = rows("validation.jsonl", 240), rows("test.jsonl", 100)
    assert any(len(r["label"]) > 1 for r in train + test)  # really multilabel
    data_dir = tmp_path / "data"
    mirror_for_task(data_dir, "SensitiveTopicsClassification", {"default": {"train": train, "test": test}})

    _assert_matches_builtin("SensitiveTopicsClassification", data_dir, tiny_model_path)


# --------------------------------------------------------------------------------------------------------------
# Pair classification
# --------------------------------------------------------------------------------------------------------------


def test_terra_pair_classification_matches_mteb(
    tmp_path: Path, shared_data: Path, tiny_model_path: Path
) -> None:
    rows = [
        {"sentence1": r["sentence1"], "sentence2": r["sentence2"], "labels": int(r["label"])}
        for r in read_jsonl(shared_data / "rumteb" / "TERRa" / "dev.jsonl")[:120]
    ]
    assert {r["labels"] for r in rows} == {0, 1}
    data_dir = tmp_path / "data"
    mirror_for_task(data_dir, "TERRa", {"default": {"dev": rows}})

    results = _assert_matches_builtin("TERRa", data_dir, tiny_model_path)
    assert set(results.task_results[0].scores) == {"dev"}


# --------------------------------------------------------------------------------------------------------------
# Reranking and retrieval
# --------------------------------------------------------------------------------------------------------------


def _xquad(shared: Path, lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """XQuAD ``lang``: the corpus (id, title, text; texts cut to 60 words), the queries, query id -> paragraph id."""
    folder = shared / "extra" / "xquad_retrieval" / lang
    corpus = [
        {"id": r["id"], "title": r["title"].replace("_", " "), "text": _words(r["text"].lstrip("\ufeff"), 60)}
        for r in read_jsonl(folder / "corpus.jsonl")
    ]
    queries = read_jsonl(folder / "queries.jsonl")
    relevant = {r["query-id"]: r["corpus-id"] for r in read_jsonl(folder / "qrels.jsonl")}
    return corpus, queries, relevant


def _retrieval_configs(
    shared: Path, lang: str, split: str, n_queries: int, candidates: int | None, prefix: str = ""
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Hub configs of a retrieval (``candidates=None``) or reranking dataset built from XQuAD ``lang``."""
    corpus, queries, relevant = _xquad(shared, lang)
    queries = queries[:: len(queries) // n_queries][:n_queries]
    ids = [doc["id"] for doc in corpus]
    qrels_name = f"{prefix}qrels" if prefix else "default"
    configs: dict[str, dict[str, list[dict[str, Any]]]] = {
        f"{prefix}corpus": {split: corpus},
        f"{prefix}queries": {split: [{"id": q["id"], "text": q["text"]} for q in queries]},
        qrels_name: {
            split: [{"query-id": q["id"], "corpus-id": relevant[q["id"]], "score": 1} for q in queries]
        },
    }
    if candidates is not None:
        rng = random.Random(1)
        top_ranked = []
        for q in queries:
            others = rng.sample([i for i in ids if i != relevant[q["id"]]], candidates - 1)
            top_ranked.append(
                {"query-id": q["id"], "corpus-ids": rng.sample([relevant[q["id"]], *others], candidates)}
            )
        configs[f"{prefix}top_ranked"] = {split: top_ranked}
    return configs


def test_rubq_reranking_matches_mteb(tmp_path: Path, shared_data: Path, tiny_model_path: Path) -> None:
    data_dir = tmp_path / "data"
    mirror_for_task(
        data_dir, "RuBQReranking", _retrieval_configs(shared_data, "ru", "test", 30, candidates=8)
    )

    _assert_matches_builtin("RuBQReranking", data_dir, tiny_model_path)


def test_rubq_retrieval_ignores_identical_ids_like_mteb(
    tmp_path: Path, shared_data: Path, tiny_model_path: Path
) -> None:
    configs = _retrieval_configs(shared_data, "ru", "test", 30, candidates=None)
    # RuBQRetrieval sets ignore_identical_ids: a document that shares a query's id (and text) must not be scored.
    queries = configs["queries"]["test"]
    configs["corpus"]["test"] += [{"id": q["id"], "title": "", "text": q["text"]} for q in queries[::2]]
    data_dir = tmp_path / "data"
    mirror_for_task(data_dir, "RuBQRetrieval", configs)

    results = _assert_matches_builtin("RuBQRetrieval", data_dir, tiny_model_path)

    # The fixture really exercises the setting: scored with identical ids, the decoys rank first and cost nDCG.
    unguarded = rumteb.get_task("RuBQRetrieval", data_dir=data_dir)
    assert unguarded.ignore_identical_ids is True
    unguarded.ignore_identical_ids = False
    assert main_score(_evaluate(unguarded, tiny_model_path)) < main_score(results) - 1e-3


def _cosine_rank_map(
    model_path: Path,
    queries: dict[str, str],
    docs: dict[str, str],
    candidates: dict[str, list[str]],
    relevant: dict[str, str],
) -> float:
    """MAP of ranking each query's candidates by cosine similarity, one relevant document per query."""
    model = SentenceTransformer(str(model_path), device="cpu")
    doc_ids = list(docs)
    doc_emb = dict(
        zip(doc_ids, model.encode([docs[i] for i in doc_ids], normalize_embeddings=True), strict=True)
    )
    query_ids = list(queries)
    query_emb = model.encode([queries[i] for i in query_ids], normalize_embeddings=True)
    precisions = []
    for qid, emb in zip(query_ids, query_emb, strict=True):
        ranked = sorted(candidates[qid], key=lambda d: -float(np.dot(emb, doc_emb[d])))
        precisions.append(1.0 / (ranked.index(relevant[qid]) + 1))
    return float(np.mean(precisions))


def test_reranking_scores_only_the_offline_candidate_lists(
    tmp_path: Path, shared_data: Path, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    corpus, queries, relevant = _xquad(shared_data, "ru")
    queries = queries[::40]
    ids = [doc["id"] for doc in corpus]
    rng = random.Random(7)
    # Two candidates per query: its paragraph and one other. Outside the lists, two decoys per query repeat the
    # query's text word for word: full-corpus retrieval ranks them first (AP <= 1/3), reranking never sees them
    # (AP >= 1/2).
    candidates = {
        q["id"]: [relevant[q["id"]], rng.choice([i for i in ids if i != relevant[q["id"]]])] for q in queries
    }
    decoys = [{"id": f"decoy-{q['id']}-{k}", "title": "", "text": q["text"]} for q in queries for k in "ab"]
    configs: dict[str, dict[str, list[dict[str, Any]]]] = {
        "corpus": {"test": corpus + decoys},
        "queries": {"test": [{"id": q["id"], "text": q["text"]} for q in queries]},
        "default": {
            "test": [{"query-id": q["id"], "corpus-id": relevant[q["id"]], "score": 1} for q in queries]
        },
    }
    full_dir = tmp_path / "full"
    mirror_for_task(full_dir, "RuBQReranking", configs)
    configs["top_ranked"] = {
        "test": [{"query-id": qid, "corpus-ids": ids_} for qid, ids_ in candidates.items()]
    }
    rerank_dir = tmp_path / "rerank"
    mirror_for_task(rerank_dir, "RuBQReranking", configs)

    task = rumteb.get_task("RuBQReranking", data_dir=rerank_dir)
    task.load_data()
    split = task.dataset["default"]["test"]
    assert split["top_ranked"] is not None
    assert {qid: list(docs) for qid, docs in split["top_ranked"].items()} == candidates
    assert len(split["corpus"]) == len(corpus) + len(decoys)
    reranked = main_score(_evaluate(task, tiny_model_path))

    # The same dataset name and revision, other files: rumteb gives each mirror folder its own datasets cache.
    full_task = rumteb.get_task("RuBQReranking", data_dir=full_dir)
    full_task.load_data()
    assert full_task.dataset["default"]["test"]["top_ranked"] is None
    full = main_score(_evaluate(full_task, tiny_model_path))

    docs = {d["id"]: (d["title"] + " " + d["text"]).strip() for d in corpus}
    expected = _cosine_rank_map(
        tiny_model_path, {q["id"]: q["text"] for q in queries}, docs, candidates, relevant
    )
    assert reranked == pytest.approx(expected, abs=1e-9)
    assert reranked >= 0.5
    assert full <= 1 / 3 + 1e-9
    assert reranked != pytest.approx(full, abs=1e-3)


# --------------------------------------------------------------------------------------------------------------
# STS
# --------------------------------------------------------------------------------------------------------------


def test_ru_sts_benchmark_matches_mteb_on_both_splits(
    tmp_path: Path, shared_data: Path, tiny_model_path: Path
) -> None:
    folder = shared_data / "rumteb" / "RuSTSBenchmarkSTS"
    splits = {
        split: [
            {k: r[k] for k in ("sentence1", "sentence2", "score")}
            for r in _shuffled(read_jsonl(folder / f"{split}.jsonl"))[:60]
        ]
        for split in ("test", "validation")
    }
    assert all(0 <= r["score"] <= 5 for rows in splits.values() for r in rows)
    data_dir = tmp_path / "data"
    mirror_for_task(data_dir, "RuSTSBenchmarkSTS", {"default": splits})

    results = _assert_matches_builtin("RuSTSBenchmarkSTS", data_dir, tiny_model_path)
    assert set(results.task_results[0].scores) == {"test", "validation"}


def test_ru_paraphraser_sts_transforms_hub_columns_and_matches_mteb(
    tmp_path: Path, shared_data: Path, tiny_model_path: Path
) -> None:
    def hub_row(row: dict[str, Any], text_1: str, text_2: str, score: Any, i: int) -> dict[str, Any]:
        # merionum/ru_paraphraser: the class is a string, "-1" (non-), "0" (loose) or "1" (precise paraphrase).
        return {
            "id": str(i),
            "id_1": str(2 * i),
            "id_2": str(2 * i + 1),
            "text_1": row[text_1],
            "text_2": row[text_2],
            "class": str(int(score)),
        }

    test = [
        hub_row(r, "sentence1", "sentence2", r["score"], i)
        for i, r in enumerate(
            _shuffled(read_jsonl(shared_data / "rumteb" / "RUParaPhraserSTS" / "test.jsonl"))[:90]
        )
    ]
    train = [
        hub_row(r, "sentence1", "sentence2", r["label"], i)
        for i, r in enumerate(read_jsonl(shared_data / "train" / "paraphraser" / "train.jsonl")[:30])
    ]
    assert {r["class"] for r in test} == {"-1", "0", "1"}
    data_dir = tmp_path / "data"
    mirror_for_task(data_dir, "RUParaPhraserSTS", {"default": {"train": train, "test": test}})

    task = rumteb.get_task("RUParaPhraserSTS", data_dir=data_dir)
    task.load_data()
    loaded = task.dataset["test"]
    assert {"sentence1", "sentence2", "score"} <= set(loaded.column_names)
    assert not {"text_1", "text_2", "class"} & set(loaded.column_names)
    assert list(loaded["score"]) == [float(r["class"]) for r in test]

    _assert_matches_builtin("RUParaPhraserSTS", data_dir, tiny_model_path)


# --------------------------------------------------------------------------------------------------------------
# Multilingual datasets: only the Russian subset is loaded and scored
# --------------------------------------------------------------------------------------------------------------


def test_sts22_fast_loading_scores_only_russian(
    tmp_path: Path, shared_data: Path, tiny_model_path: Path
) -> None:
    stsb = shared_data / "train" / "stsb_multi_mt"

    def rows(lang: str, offset: int) -> list[dict[str, Any]]:
        # STS22 scores run from 1 to 4; STS-B's from 0 to 5.
        picked = read_jsonl(stsb / f"{lang}-test.jsonl")[offset : offset + 50]
        return [
            {
                "id": f"{lang}-{i}",
                "score": 1 + 3 * r["score"] / 5,
                "sentence1": r["sentence1"],
                "sentence2": r["sentence2"],
                "lang": lang,
            }
            for i, r in enumerate(picked)
        ]

    ru, en = rows("ru", 0), rows("en", 500)
    data_dir = tmp_path / "data"
    mirror_for_task(data_dir, "STS22", {"default": {"test": _shuffled(ru + en)}})

    task = rumteb.get_task("STS22", data_dir=data_dir)
    task.load_data()
    assert list(task.dataset) == ["ru"]
    assert len(task.dataset["ru"]["test"]) == len(ru)

    results = _assert_matches_builtin("STS22", data_dir, tiny_model_path)
    assert set(_split_scores(results)) == {("test", "ru")}
    (entry,) = results.task_results[0].scores["test"]
    assert entry["languages"] == ["rus-Cyrl"]


def test_miracl_reranking_loads_ru_configs_only(
    tmp_path: Path, shared_data: Path, tiny_model_path: Path
) -> None:
    configs = _retrieval_configs(shared_data, "ru", "dev", 25, candidates=6, prefix="ru-")
    configs.update(_retrieval_configs(shared_data, "en", "dev", 25, candidates=6, prefix="en-"))
    data_dir = tmp_path / "data"
    mirror_for_task(data_dir, "MIRACLReranking", configs)

    task = rumteb.get_task("MIRACLReranking", data_dir=data_dir)
    task.load_data()
    assert list(task.dataset) == ["ru"]
    assert task.dataset["ru"]["dev"]["top_ranked"] is not None
    assert len(task.dataset["ru"]["dev"]["queries"]) == 25

    results = _assert_matches_builtin("MIRACLReranking", data_dir, tiny_model_path)
    assert set(_split_scores(results)) == {("dev", "ru")}
