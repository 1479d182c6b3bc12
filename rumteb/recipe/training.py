"""Contrastive (InfoNCE) training of the ru-en-RoSBERTa recipe from a validated YAML config.

The loss is sentence-transformers' ``CachedMultipleNegativesRankingLoss`` (InfoNCE with in-batch and hard negatives,
GradCache so that large batches fit in ``mini_batch_size`` pieces; plain ``MultipleNegativesRankingLoss``, the same
loss without GradCache's extra forward pass, when ``mini_batch_size >= batch_size``): its ``scale`` is
**1/temperature** (temperature 0.05 -> scale 20). Every batch comes from one source dataset and holds no duplicate
text (``BatchSamplers.NO_DUPLICATES``), so in-batch negatives are real negatives. Prefixes are added per dataset and
column role; the saved model carries the four RoSBERTa prompts (``search_query: ``, ``search_document: ``,
``classification: ``, ``clustering: ``, and ``query``/``document`` aliases) and its pooling. The resolved config is
written beside the model.

Multi-GPU: launch the same command with ``torchrun --nproc_per_node N`` or ``accelerate launch`` (DDP; gloo on
CPU). With more than one process the loss gathers the embeddings of all ranks (``gather_across_devices=True``), so
the in-batch negatives of a step are the ``N x batch_size`` texts of all ranks, and every global step draws all its
batches from one dataset (`rumteb.recipe._sampler`). Rank 0 alone writes the config and the final model.

Resuming: with ``save_steps`` set, checkpoints (model, optimizer, scheduler, RNG states, step) are written to
``<output_dir>/checkpoint-<step>``; ``resume: true`` (``rumteb train ... --resume``) continues from the newest one,
skipping the batches already seen, and starts from scratch when there is none.

Example:
    >>> config = load_config("rumteb/recipe/configs/ru-en-rosberta.yaml")  # doctest: +SKIP
    >>> train(config).model_dir  # doctest: +SKIP
    PosixPath('out/ru-en-rosberta/final')
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rumteb.errors import MissingExtraError

# the config schema lives in `rumteb.recipe.config`; its names stay importable from here
from rumteb.recipe.config import DEFAULT_PROMPTS as DEFAULT_PROMPTS
from rumteb.recipe.config import POOLING as POOLING
from rumteb.recipe.config import PRECISION as PRECISION
from rumteb.recipe.config import SAMPLERS as SAMPLERS
from rumteb.recipe.config import DatasetConfig as DatasetConfig
from rumteb.recipe.config import EvalConfig as EvalConfig
from rumteb.recipe.config import TrainConfig as TrainConfig
from rumteb.recipe.config import config_from_dict as config_from_dict
from rumteb.recipe.config import config_to_dict as config_to_dict
from rumteb.recipe.config import load_config as load_config
from rumteb.recipe.config import resolve_config as resolve_config
from rumteb.recipe.config import shipped_configs as shipped_configs
from rumteb.recipe.source_config import ROLES as ROLES
from rumteb.recipe.sources import check_ready, load_source, source_texts

__all__ = ["DatasetConfig", "TrainConfig", "TrainResult", "config_from_dict", "load_config", "train"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    """What `train` returns (on every rank of a DDP run).

    Attributes:
        model_dir: the saved model's folder (written by rank 0).
        losses: the logged training losses (one per logging step of this call; a resumed run logs only its own).
        global_step: the optimizer step reached (counting the steps before a resume).
        step_datasets: the dataset name of this rank's batch at each step run by this call.
        world_size: the number of processes.
        resumed_from: the checkpoint folder the run continued from, if any.
        excluded: per dataset, the examples dropped by ``exclude_contaminated`` (also in contamination.json).
        commits: per Hub source, ``repo@commit`` of the data it trained on (also the ``revision`` of each source in
            the saved ``training_config.yaml``).
    """

    model_dir: Path
    losses: tuple[float, ...]
    global_step: int = 0
    step_datasets: tuple[str, ...] = ()
    world_size: int = 1
    resumed_from: Path | None = None
    excluded: Mapping[str, int] = dataclasses.field(default_factory=dict)
    commits: Mapping[str, str] = dataclasses.field(default_factory=dict)


def _column_prompts(spec: DatasetConfig) -> dict[str, str]:
    prompts: dict[str, str] = {}
    if spec.prefixes.get("anchor"):
        prompts["anchor"] = spec.prefixes["anchor"]
    if spec.prefixes.get("positive"):
        prompts["positive"] = spec.prefixes["positive"]
    if spec.prefixes.get("negatives"):
        for i in range(len(spec.negatives)):
            prompts[f"negative_{i + 1}"] = spec.prefixes["negatives"]
    return prompts


def _build_model(config: TrainConfig) -> Any:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    from rumteb.recipe.merge import transformer_folder

    base = Path(config.base_model)
    source = str(transformer_folder(base)) if base.is_dir() else config.base_model
    transformer = Transformer(source, max_seq_length=config.max_seq_length)
    dim = transformer.get_embedding_dimension()
    modules: list[Any] = [transformer, Pooling(dim, pooling_mode=config.pooling)]
    if config.normalize:
        modules.append(Normalize())
    model = SentenceTransformer(modules=modules)
    model.prompts = dict(config.prompts)
    return model


def _warn_on_changed_config(path: Path, current: Mapping[str, Any]) -> None:
    """A resumed run should be the interrupted run: name the keys that differ from its saved config."""
    import yaml

    if not path.is_file():
        return
    before = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    changed = sorted(k for k in set(before) | set(current) if before.get(k) != current.get(k))
    if changed:
        logger.warning(
            "resume: the config differs from the interrupted run's (%s) in: %s", path, ", ".join(changed)
        )


def train(config: TrainConfig, *, callbacks: Sequence[Any] = ()) -> TrainResult:
    """Train ``config.base_model`` contrastively and save it to ``<output_dir>/final`` with the resolved config.

    The model is the base transformer + ``config.pooling`` pooling (+ normalisation); the loss is
    ``CachedMultipleNegativesRankingLoss(scale=1/temperature, mini_batch_size=...)`` (plain MNRL when one
    mini-batch holds the batch), gathering negatives across ranks when run under ``torchrun``/``accelerate launch``
    with more than one process. On a machine without CUDA or MPS it trains on the CPU (bf16 autocast included).

    Args:
        config: a validated `TrainConfig`.
        callbacks: extra ``transformers.TrainerCallback`` objects (progress, early stop, tests).

    Returns:
        A `TrainResult` with the saved model's folder, the logged losses and the step count.

    Raises:
        MissingExtraError: without ``accelerate`` (``pip install rumteb[train]``).

    Example:
        >>> train(load_config("my.yaml")).model_dir  # doctest: +SKIP
    """
    try:
        import accelerate  # noqa: F401
        import yaml
    except ImportError as error:
        raise MissingExtraError(
            f"Training needs the 'train' extra: pip install \"rumteb[train]\" ({error})."
        ) from error
    import datasets
    import torch
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
        MultipleNegativesRankingLoss,
    )
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers
    from transformers import TrainerCallback, set_seed
    from transformers.trainer_utils import get_last_checkpoint

    from rumteb.models.training_record import write_training_record
    from rumteb.recipe._sampler import StepAlignedBatchSampler
    from rumteb.recipe.provenance import training_record

    for spec in config.datasets:  # an unpinned or unmapped source fails before the model loads
        check_ready(spec)
    commits = {d.name: f"{d.hub}@{d.revision}" for d in config.datasets if d.hub is not None}
    for name, commit in commits.items():
        logger.info("Training source %s: %s", name, commit)
    set_seed(config.seed)
    # Without an accelerator transformers must be told it runs on the CPU: bf16 autocast is refused otherwise, and
    # accelerate treats a multi-process launch as multi-CPU (gloo) only then.
    on_cpu = not torch.cuda.is_available() and not torch.backends.mps.is_available()
    cpu_ddp = on_cpu and int(os.environ.get("WORLD_SIZE", "1")) > 1
    out = Path(config.output_dir)
    saved = {k: v for k, v in config_to_dict(config).items() if k != "resume"}
    resolved = yaml.safe_dump(saved, allow_unicode=True, sort_keys=False)

    model = _build_model(config)
    evaluator = None
    if config.eval is not None:  # built before training: an unknown task or a missing mirror fails now
        from rumteb.recipe.evaluator import RuMTEBEvaluator

        evaluator = RuMTEBEvaluator(config.eval.tasks, data_dir=config.eval.data_dir)
        from rumteb.data.preflight import check_data_sources

        check_data_sources(evaluator.task_instances())
    train_data = datasets.DatasetDict(
        {d.name: load_source(d, config.seed, config.data_dir) for d in config.datasets}
    )
    excluded: dict[str, int] = {}
    if config.exclude_contaminated is not None:
        train_data, excluded = _exclude_contaminated(train_data, config, out)
    prompts = {d.name: _column_prompts(d) for d in config.datasets}
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=float(config.warmup_ratio),  # transformers v5: a float below 1 is a ratio
        bf16=config.precision == "bf16",
        fp16=config.precision == "fp16",
        seed=config.seed,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        prompts=prompts,
        logging_steps=config.logging_steps,
        save_strategy="steps" if config.save_steps else "no",
        save_steps=config.save_steps or 500,
        save_total_limit=config.save_total_limit,
        report_to="none",
        eval_strategy="steps" if evaluator is not None else "no",
        eval_steps=config.eval.every_steps if config.eval is not None else None,
        use_cpu=on_cpu,
        ddp_backend="gloo" if cpu_ddp else None,
    )
    world_size = int(args.world_size)
    # Full batches only: equal sizes on all ranks of a step (the gathered similarity matrix needs them), and no
    # step wasted on a dataset's short last batch (one row: loss 0, no negatives) in any world size.
    args.dataloader_drop_last = True
    args.multi_dataset_batch_sampler = functools.partial(
        StepAlignedBatchSampler, num_processes=world_size, mode=config.multi_dataset_sampler
    )
    # GradCache splits the batch into mini-batches at the price of one extra forward pass; when one mini-batch
    # holds the whole batch, plain MNRL computes the same loss and gradients without it.
    loss: torch.nn.Module
    if config.mini_batch_size >= config.batch_size:
        loss = MultipleNegativesRankingLoss(
            model, scale=1.0 / config.temperature, gather_across_devices=world_size > 1
        )
    else:
        loss = CachedMultipleNegativesRankingLoss(
            model,
            scale=1.0 / config.temperature,
            mini_batch_size=config.mini_batch_size,
            gather_across_devices=world_size > 1,
        )
    losses: list[float] = []
    step_datasets: list[str] = []

    class _Losses(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            if logs and "loss" in logs:
                losses.append(float(logs["loss"]))

    class _Trainer(SentenceTransformerTrainer):
        def compute_loss(self, model: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
            if model.training and "dataset_name" in inputs:
                name = inputs["dataset_name"]
                step_datasets.append(str(name if isinstance(name, str) else name[0]))
            return super().compute_loss(model, inputs, *args, **kwargs)

    trainer = _Trainer(
        model=model,
        args=args,
        train_dataset=train_data,
        loss=loss,
        evaluator=evaluator,
        callbacks=[_Losses(), *callbacks],
    )
    checkpoint = get_last_checkpoint(str(out)) if config.resume and out.is_dir() else None
    if config.resume and checkpoint is None:
        logger.warning("resume: no checkpoint-<step> folder in %s; training from the start", out)
    elif checkpoint is not None:
        logger.info("Resuming from %s", checkpoint)
        _warn_on_changed_config(out / "training_config.yaml", saved)
    if trainer.is_world_process_zero():
        out.mkdir(parents=True, exist_ok=True)
        (out / "training_config.yaml").write_text(resolved, encoding="utf-8")
    trainer.train(resume_from_checkpoint=checkpoint)
    final = out / "final"
    if trainer.is_world_process_zero():
        model.prompts = dict(config.prompts)
        model.save(str(final))
        (final / "training_config.yaml").write_text(resolved, encoding="utf-8")
        # what it was trained on, for the training_datasets of its results (the leaderboard's Zero-shot)
        report = out / "contamination.json" if config.exclude_contaminated is not None else None
        write_training_record(final, training_record(config, report))
        logger.info(
            "Trained %s for %d steps on %d process(es); saved %s",
            config.base_model,
            trainer.state.global_step,
            world_size,
            final,
        )
    trainer.accelerator.wait_for_everyone()
    return TrainResult(
        final,
        tuple(losses),
        global_step=int(trainer.state.global_step),
        step_datasets=tuple(step_datasets),
        world_size=world_size,
        resumed_from=Path(checkpoint) if checkpoint else None,
        excluded=excluded,
        commits=commits,
    )


def _exclude_contaminated(train_data: Any, config: TrainConfig, out: Path) -> tuple[Any, dict[str, int]]:
    """Drop the examples with a text found in the evaluation splits of ``config.exclude_contaminated``'s benchmark;
    the report and the counts go to ``out/contamination.json``."""
    import datasets

    from rumteb.benchmark import select_tasks
    from rumteb.recipe.contamination import find_contamination, normalise

    spec = config.exclude_contaminated
    assert spec is not None
    tasks = select_tasks(benchmark=spec.benchmark, data_dir=spec.data_dir)
    sources = {name: source_texts(data) for name, data in train_data.items()}
    report = find_contamination(
        sources, tasks, benchmark=spec.benchmark, threshold=spec.threshold, near=spec.near
    )
    kept, excluded = {}, {}
    for name, data in train_data.items():
        bad = report.contaminated[name]

        def clean(batch: dict[str, list[str]], bad: set[str] = bad) -> list[bool]:
            rows = zip(*batch.values(), strict=True)
            return [not any(normalise(text) in bad for text in row) for row in rows]

        kept[name] = data.filter(clean, batched=True) if bad else data
        excluded[name] = len(data) - len(kept[name])
        logger.info("exclude_contaminated: dropped %d of %d examples of %s", excluded[name], len(data), name)
    if int(os.environ.get("RANK", "0")) == 0:
        out.mkdir(parents=True, exist_ok=True)
        record = {"excluded_examples": excluded, "report": report.to_json()}
        (out / "contamination.json").write_text(
            json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return datasets.DatasetDict(kept), excluded
