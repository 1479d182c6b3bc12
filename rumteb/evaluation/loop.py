"""The task loop of ``rumteb run``: each task through ``mteb.evaluate``, stored in mteb's layout as it ends."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rumteb.errors import ParameterError, RumtebError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskOutcome:
    """One finished task: its name, main score (mean over splits and subsets) and wall time; ``rerun_reason``
    says why a stored result was not reused (None when there was none or it was reused)."""

    task: str
    main_score_name: str
    score: float
    seconds: float
    rerun_reason: str | None = None


class StaleResultError(RumtebError, ValueError):
    """A stored result does not match the run and the overwrite strategy forbids replacing it."""


def run_tasks(
    model: Any,
    tasks: Sequence[Any],
    *,
    output_folder: Path,
    overwrite_strategy: str = "only-missing",
    batch_size: int = 32,
    prediction_folder: Path | None = None,
    on_task_done: Callable[[TaskOutcome], None] | None = None,
    show_progress_bar: bool = False,
    run_record: Mapping[str, Any] | None = None,
) -> list[TaskOutcome]:
    """Evaluate ``tasks`` one at a time through ``mteb.evaluate`` into mteb's result layout under ``output_folder``.

    Each task's result is written as soon as it finishes, through a temporary file, fsync and rename, so an
    interrupted run keeps the tasks done so far and never leaves a partial file; a re-run finishes only the
    missing work. A stored result is reused only when it matches the run: same dataset revision, task definition
    (splits, subsets, main score) and model revision; otherwise it is re-run (``only-missing``, the default) with
    a warning naming the difference, or refused (``never``, ``only-cache``). ``--overwrite-strategy`` keeps mteb's
    meanings otherwise. Every ``encode`` call is checked: no None among the input texts, one finite row per input,
    one dimension; texts longer than the model's limit are counted and reported once per task.
    ``show_progress_bar`` asks the encoder for a progress bar per encode call (off by default). ``run_record``
    goes into each task's run-settings entry under ``rumteb`` beside the size and speed (``rumteb run`` puts where
    the ``training_datasets`` came from there: `rumteb.evaluation.training_data`).

    Raises:
        StaleResultError: A stored result does not match and ``overwrite_strategy`` is ``never``/``only-cache``.
        rumteb.evaluation.guard.EncodeCheckError: None in the inputs; NaN/inf, wrong row count or dimension in the output.
        rumteb.evaluation.result_store.ResultWriteError: The output folder cannot be written (not a folder, disk full).
    """
    import mteb

    from rumteb.evaluation.guard import EncodeGuard
    from rumteb.evaluation.result_store import SafeResultCache, check_output_folder

    if batch_size < 1:
        raise ParameterError.invalid("run_tasks", "batch_size", "a positive int", batch_size)
    strategies = ("always", "never", "only-missing", "only-cache")
    if overwrite_strategy not in strategies:
        expected = f"one of {', '.join(strategies)}"
        raise ParameterError.invalid("run_tasks", "overwrite_strategy", expected, overwrite_strategy)
    if prediction_folder is not None:  # mteb creates it only once the first task is scored
        check_output_folder(Path(prediction_folder), "prediction folder")
    model = _as_mteb_model(model)
    from rumteb.evaluation import speed as _speed

    # model_meta.json then says them too: parameters counted on the weights, the embedding matrix by mteb's rule
    counted = {
        "n_parameters": _speed.count_parameters,
        "n_embedding_parameters": _speed.count_embedding_parameters,
    }
    found = {
        field: count(model)
        for field, count in counted.items()
        if getattr(model.mteb_model_meta, field, None) is None
    }
    found = {field: value for field, value in found.items() if value is not None}
    if found:
        model.mteb_model_meta = model.mteb_model_meta.model_copy(update=found)
    meta = model.mteb_model_meta
    cache = SafeResultCache(output_folder)
    guard = EncodeGuard(model)
    record = _speed.recorder(model, guard)  # size and throughput beside each result
    extra = dict(run_record or {})
    cache.run_settings_extra = (lambda: {**record(), **extra}) if extra else record
    outcomes: list[TaskOutcome] = []
    with guard.installed():
        for task in tasks:
            name = task.metadata.name
            start = time.perf_counter()
            cache.expect(task)
            strategy, reason = overwrite_strategy, None
            if overwrite_strategy != "always":
                reason = cache.stale_reason(task, meta)
            if reason is not None:
                path = cache.get_task_result_path(name, meta)
                if overwrite_strategy in ("never", "only-cache"):
                    raise StaleResultError(
                        f"The stored result {path} does not match this run: {reason}. --overwrite-strategy "
                        f"{overwrite_strategy} does not replace it; use only-missing (re-runs it) or always."
                    )
                logger.warning("Not reusing the stored result %s: %s. Re-running %s.", path, reason, name)
                strategy = "always"
            guard.reset()
            try:
                result = mteb.evaluate(
                    model,
                    [task],
                    cache=cache,
                    overwrite_strategy=strategy,
                    encode_kwargs={"batch_size": batch_size, "show_progress_bar": show_progress_bar},
                    prediction_folder=prediction_folder,
                    show_progress_bar=False,
                )
            except Exception as err:
                _raise_hub_error(task, err, done=[o.task for o in outcomes])
                raise
            guard.report(name)
            (task_result,) = result.task_results
            outcome = TaskOutcome(
                task=name,
                main_score_name=task.metadata.main_score,
                score=float(task_result.get_score()),
                seconds=time.perf_counter() - start,
                rerun_reason=reason,
            )
            outcomes.append(outcome)
            if on_task_done is not None:
                on_task_done(outcome)
    return outcomes


def _raise_hub_error(task: Any, err: Exception, done: Sequence[str]) -> None:
    """A Hub lost mid-run (after the check before the model loaded) as one `HubError` line; anything else
    is left to propagate."""
    from rumteb.data.hub import hub_error

    cause: BaseException | None = err
    seen: set[int] = set()
    # an error of ours in the chain (an embedding server gone, say) already has its own line
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, RumtebError):
            return
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    dataset = task.metadata.dataset
    hub = hub_error(str(dataset["path"]), str(dataset["revision"]), err)
    if hub is None:
        return
    kept = (
        f" The results of {', '.join(done)} are saved; the same command goes on from there." if done else ""
    )
    raise type(hub)(f"{hub}{kept}") from err


def _as_mteb_model(model: Any) -> Any:
    """A sentence-transformers model wrapped as mteb does; an mteb model as is.

    Raises:
        ParameterError: Neither (no ``mteb_model_meta``): its results would have no name or revision to file under.
    """
    if type(model).__module__.startswith("sentence_transformers"):
        from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper
        from sentence_transformers import SentenceTransformer

        if isinstance(model, SentenceTransformer):
            return SentenceTransformerEncoderWrapper(model)
    if not hasattr(model, "mteb_model_meta"):
        raise ParameterError(
            "The 'model' parameter of run_tasks must be an mteb encoder (with mteb_model_meta) or a "
            f"SentenceTransformer. Got {type(model).__name__} instead."
        )
    return model
