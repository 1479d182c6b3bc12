"""Facts about one task that its dataset card states, read from the task instance, rumteb's benchmark definitions
and mteb: the benchmarks and splits that score it, how mteb's evaluator scores it, the columns and configs mteb
reads, its instruction and ru-en-RoSBERTa prefix, whether rumteb transforms its rows, and the mteb major version.
Each function returns a short string or list that `rumteb.cards.render` puts into a card.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rumteb.cards.stats import fmt

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask


def benchmarks_of(name: str) -> list[str]:
    from rumteb.benchmark import BENCHMARK_TASKS

    return [bench for bench, names in BENCHMARK_TASKS.items() if name in names]


def benchmark_splits(task: AbsTask) -> list[str]:
    from rumteb.benchmark import EVAL_SPLITS

    return list(EVAL_SPLITS.get(task.metadata.name, task.metadata.eval_splits))


def _uses_config_per_language(task: AbsTask) -> bool:
    return bool(task.metadata.is_multilingual and not getattr(task, "fast_loading", False))


def evaluation(task: AbsTask) -> str:
    """How mteb scores the task, read from the task instance's evaluator settings."""
    kind = task.metadata.type
    if kind == "Classification":
        model = getattr(task, "evaluator_model", None)
        return (
            f"logistic regression (max_iter {getattr(model, 'max_iter', '?')}) fitted on the embeddings of "
            f"{task.samples_per_label} examples per label drawn from `{task.train_split}`, repeated "  # type: ignore[attr-defined]
            f"{task.n_experiments} times; the score is the mean over the repetitions"  # type: ignore[attr-defined]
        )
    if kind == "MultilabelClassification":
        model = getattr(task, "evaluator_model", None)
        return (
            f"k-nearest neighbours (k = {getattr(model, 'n_neighbors', '?')}) over embeddings of training rows "
            f"undersampled to about {task.samples_per_label} per label (rows without a label are never used "  # type: ignore[attr-defined]
            f"for training), repeated {task.n_experiments} times; accuracy is exact-match (subset) accuracy"  # type: ignore[attr-defined]
        )
    if kind == "Clustering":
        return (
            f"up to {fmt(task.max_document_to_embed)} documents, sampled with the task's seed, are embedded once; "  # type: ignore[attr-defined]
            f"{task.n_clusters} bootstrap draws (up to {fmt(task.max_documents_per_cluster)} documents each) are "  # type: ignore[attr-defined]
            f"clustered with MiniBatchKMeans (batch {task.k_mean_batch_size}, as many clusters as labels); "  # type: ignore[attr-defined]
            "the score is the mean V-measure against the labels"
        )
    if kind == "PairClassification":
        return (
            "each pair is scored by cosine, dot product, Euclidean and Manhattan similarity of its two embeddings "
            "(and the model's own similarity); `max_ap` is the best average precision of those scores against the "
            "binary labels"
        )
    if kind == "STS":
        return (
            f"gold scores are normalised from [{task.min_score}, {task.max_score}] to [0, 1]; the score is the "  # type: ignore[attr-defined]
            "Spearman correlation between them and the cosine similarity of the two embeddings"
        )
    if kind == "Reranking":
        return (
            "each query is scored only against its own candidate list (`top_ranked`), ranked by embedding "
            "similarity, and judged with pytrec_eval against the relevance labels"
        )
    if kind == "Retrieval":
        return (
            f"exact search over the whole corpus (top {max(task.k_values)} per query) by embedding similarity, "  # type: ignore[attr-defined]
            "judged with pytrec_eval against the relevance labels"
        )
    return "mteb's evaluator for this task type"


def columns(task: AbsTask) -> str:
    """The columns mteb reads for the task (after rumteb's transform, if any)."""
    kind = task.metadata.type
    if kind in ("Retrieval", "Reranking"):
        prefix = f"{task.hf_subsets[0]}-" if _uses_config_per_language(task) else ""
        qrels = f"`{prefix}qrels`" if prefix else "`default` (or `qrels` when there is no `default`)"
        text = (
            f"`{prefix}corpus`: `id` (or `_id`), `text`, optional `title` (mteb encodes `title` + ' ' + `text`); "
            f"`{prefix}queries`: `id` (or `_id`), `text`; {qrels}: `query-id`, `corpus-id`, `score`"
        )
        if kind == "Reranking":
            text += f"; `{prefix}top_ranked`: `query-id`, `corpus-ids` (the candidate list)"
        return text
    columns = {
        "Classification": "`text`, `label` (one class)",
        "MultilabelClassification": "`text`, `label` (a list of classes, possibly empty)",
        "Clustering": "`sentences`, `labels`",
        "PairClassification": "`sentence1`, `sentence2`, `labels` (1 = positive)",
        "STS": "`sentence1`, `sentence2`, `score`",
    }[kind]
    if getattr(task, "fast_loading", False):
        columns += ", `lang` (mteb keeps the rows whose `lang` is `ru`)"
    return columns


def configs(tasks: Sequence[AbsTask]) -> list[str]:
    """Config names mteb reads for these tasks (certain ones only; see `columns` for the qrels rule)."""
    names: list[str] = []
    for task in tasks:
        kind = task.metadata.type
        if kind in ("Retrieval", "Reranking"):
            prefix = f"{task.hf_subsets[0]}-" if _uses_config_per_language(task) else ""
            wanted = [f"{prefix}corpus", f"{prefix}queries"]
            if prefix:
                wanted.append(f"{prefix}qrels")
            if kind == "Reranking":
                wanted.append(f"{prefix}top_ranked")
        else:
            wanted = [task.metadata.dataset.get("name") or "default"]
        names += [name for name in wanted if name not in names]
    return names


def rosberta_prompts(task: AbsTask) -> str:
    """The ru-en-RoSBERTa prefixes mteb's model registry applies to the task (empty when mteb has none)."""
    import mteb
    from mteb.models.abs_encoder import get_prompt_name
    from mteb.types import PromptType

    prompts = (mteb.get_model_meta("ai-forever/ru-en-RoSBERTa").loader_kwargs or {}).get(
        "model_prompts"
    ) or {}
    if task.metadata.type in ("Retrieval", "Reranking"):
        parts = []
        for kind in (PromptType.query, PromptType.document):
            key = get_prompt_name(prompts, task.metadata, kind)
            parts.append(f"{kind.value}: `{prompts[key]}`" if key else f"{kind.value}: none")
        return "; ".join(parts)
    key = get_prompt_name(prompts, task.metadata, None)
    return f"`{prompts[key]}`" if key else "none"


def instruction(task: AbsTask) -> str:
    prompt = task.metadata.prompt
    if not prompt:
        fallback = getattr(task, "abstask_prompt", None)
        return (
            f"none; mteb's default for the task type applies: “{fallback.rstrip('.')}”"
            if fallback
            else "none"
        )
    if isinstance(prompt, dict):
        return "; ".join(f"{kind}: “{text}”" for kind, text in prompt.items())
    return f"“{prompt}”"


def has_transform(task: AbsTask) -> bool:
    from rumteb.tasks import RuMTEBTask

    for cls in type(task).__mro__:
        if cls is RuMTEBTask or not issubclass(cls, RuMTEBTask):
            continue
        if "dataset_transform" in vars(cls):
            return True
    return False


def mteb_major() -> str:
    import mteb

    return ".".join(str(mteb.__version__).split(".")[:1]) + ".x"
