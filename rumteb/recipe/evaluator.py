"""`RuMTEBEvaluator`: ruMTEB tasks as a sentence-transformers evaluator, for ``SentenceTransformerTrainer``."""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sentence_transformers.evaluation import SentenceEvaluator

from rumteb.errors import ParameterError

logger = logging.getLogger(__name__)


class RuMTEBEvaluator(SentenceEvaluator):
    """Run ruMTEB tasks through mteb on the model being trained; return each task's main score and their mean.

    At each call the model's current weights are saved to a temporary folder and evaluated with rumteb's encoder
    (`rumteb.models.Encoder`, no embedding cache: the weights change between calls), on fresh task instances, as
    ``rumteb run -m CHECKPOINT -t TASKS`` does: a checkpoint saved at the same step scores the same. Metrics are
    ``{name}_{task}`` and ``{name}_mean`` (the primary metric); the trainer logs them as ``eval_{name}_...``, so
    ``metric_for_best_model="eval_rumteb_mean"`` keeps the best checkpoint by ruMTEB.

    Args:
        tasks: ruMTEB task names (mteb's), e.g. ``["TERRa", "RUParaPhraserSTS"]``.
        data_dir: Offline mirror (``rumteb data pull``); default ``$RUMTEB_DATA_DIR``, else the Hub.
        benchmark: Whose splits the tasks use (``"ruMTEB"``: RuSTSBenchmarkSTS on test only).
        precision: Precision of rumteb's encoder (``"auto"``, as ``rumteb run``; ``"fp32"``...).
        name: Prefix of the metric names.

    Raises:
        LookupError: An unknown task or benchmark name (with the closest names).
        ValueError: ``tasks`` empty or not a list of names.

    Example:
        >>> evaluator = RuMTEBEvaluator(["TERRa", "RUParaPhraserSTS"], data_dir="/data/rumteb")
        >>> trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data, evaluator=evaluator)
    """

    def __init__(
        self,
        tasks: Sequence[str],
        *,
        data_dir: str | Path | None = None,
        benchmark: str = "ruMTEB",
        precision: str = "auto",
        name: str = "rumteb",
    ) -> None:
        super().__init__()
        if isinstance(tasks, str) or not tasks or not all(isinstance(t, str) for t in tasks):
            raise ParameterError(
                f"The 'tasks' parameter of RuMTEBEvaluator must be a non-empty list of task names. Got {tasks!r} "
                "instead."
            )
        from rumteb.benchmark import select_tasks

        select_tasks(list(tasks), benchmark=benchmark, data_dir=data_dir)  # unknown names fail here
        from rumteb.models.encoder import PRECISIONS

        # int8 is left out: its score noise (~0.003) is the size of the differences checkpoints are chosen by
        allowed = [p for p in PRECISIONS if p != "int8"]
        if precision not in allowed:  # here, not at the first evaluation
            raise ParameterError(
                f"The 'precision' parameter of RuMTEBEvaluator must be one of {', '.join(allowed)}. Got "
                f"{precision!r} instead."
            )
        self.tasks = list(tasks)
        self.data_dir = data_dir
        self.benchmark = benchmark
        self.precision = precision
        self.name = name
        self.primary_metric = "mean"
        self.greater_is_better = True

    def __call__(
        self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        scores = self.scores(model)
        metrics: dict[str, float] = {**scores, "mean": math.fsum(scores.values()) / len(scores)}
        logger.info("ruMTEB at epoch %s, step %s: %s", epoch, steps, metrics)
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def scores(self, model: Any) -> dict[str, float]:
        """Task name -> main score (mean over the task's splits and subsets) of ``model``'s current weights."""
        import mteb

        from rumteb.models.encoder import Encoder

        tasks = self.task_instances()
        device = str(getattr(model, "device", "cpu"))
        with tempfile.TemporaryDirectory(prefix="rumteb-eval-") as folder:
            model.save(folder)
            encoder = Encoder(folder, device=device, precision=self.precision)
            try:
                result = mteb.evaluate(
                    encoder,
                    tasks,
                    cache=None,
                    encode_kwargs={"batch_size": 32, "show_progress_bar": False},
                    show_progress_bar=False,
                )
            finally:
                encoder.close()
        return {r.task_name: float(r.get_score()) for r in result.task_results}

    def task_instances(self) -> list[Any]:
        """Fresh instances of the tasks (mteb's evaluators keep per-instance random state)."""
        from rumteb.benchmark import select_tasks

        return select_tasks(self.tasks, benchmark=self.benchmark, data_dir=self.data_dir)

    def get_config_dict(self) -> dict[str, Any]:
        return {"tasks": self.tasks, "benchmark": self.benchmark, "precision": self.precision}
