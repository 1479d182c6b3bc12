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
batches from one dataset (`rumteb.models._train_sampler`). Rank 0 alone writes the config and the final model.

Resuming: with ``save_steps`` set, checkpoints (model, optimizer, scheduler, RNG states, step) are written to
``<output_dir>/checkpoint-<step>``; ``resume: true`` (``rumteb train ... --resume``) continues from the newest one,
skipping the batches already seen, and starts from scratch when there is none.

Example:
    >>> config = load_config("rumteb/models/configs/ru-en-rosberta.yaml")  # doctest: +SKIP
    >>> train(config).model_dir  # doctest: +SKIP
    PosixPath('out/ru-en-rosberta/final')
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rumteb._lookup import unknown_name_error

__all__ = ["DatasetConfig", "TrainConfig", "TrainResult", "config_from_dict", "load_config", "train"]

logger = logging.getLogger(__name__)

ROLES = ("anchor", "positive", "negatives")
POOLING = ("cls", "mean", "max", "lasttoken")
PRECISION = ("fp32", "bf16", "fp16")
SAMPLERS = ("proportional", "round_robin")
DEFAULT_PROMPTS: Mapping[str, str] = {
    "search_query": "search_query: ",
    "search_document": "search_document: ",
    "classification": "classification: ",
    "clustering": "clustering: ",
    "query": "search_query: ",
    "document": "search_document: ",
    # mteb's task-type keys, as in mteb's prompt dict for ai-forever/ru-en-RoSBERTa: `rumteb run` on the saved
    # model then prefixes symmetric tasks too (without them STS and pair classification get no prefix).
    "Classification": "classification: ",
    "MultilabelClassification": "classification: ",
    "Clustering": "clustering: ",
    "PairClassification": "classification: ",
    "STS": "classification: ",
    "Reranking-query": "search_query: ",
    "Reranking-document": "search_document: ",
}


@dataclass(frozen=True)
class DatasetConfig:
    """One training source: a local JSONL or parquet file and the roles of its columns.

    Attributes:
        name: unique name (batches never mix datasets; prefixes are keyed by it).
        path: ``.jsonl``/``.json`` or ``.parquet`` file.
        anchor: column of the anchors (queries).
        positive: column of the positives.
        negatives: columns of hard negatives (may be empty).
        prefixes: prefix per role (``anchor``, ``positive``, ``negatives``); missing roles get none.
        where: keep only rows whose columns equal these values (e.g. ``{label: 1}``).
        max_rows: keep at most this many rows (after ``where``, shuffled with the config's seed).
    """

    name: str
    path: str
    anchor: str
    positive: str
    negatives: tuple[str, ...] = ()
    prefixes: Mapping[str, str] = field(default_factory=dict)
    where: Mapping[str, Any] = field(default_factory=dict)
    max_rows: int | None = None


@dataclass(frozen=True)
class EvalConfig:
    """ruMTEB during training (`rumteb.evaluation.RuMTEBEvaluator`), under the config's ``eval`` key.

    Attributes:
        tasks: ruMTEB task names, e.g. ``[TERRa, RUParaPhraserSTS]``.
        every_steps: evaluate every this many optimizer steps (logged as ``eval_rumteb_<task>``, ``eval_rumteb_mean``).
        data_dir: offline mirror of the tasks' data (default ``$RUMTEB_DATA_DIR``, else the Hub).
    """

    tasks: tuple[str, ...]
    every_steps: int
    data_dir: str | None = None

    def __post_init__(self) -> None:
        _check(
            bool(self.tasks) and all(isinstance(t, str) for t in self.tasks),
            "eval.tasks",
            "a non-empty list of task names",
            self.tasks,
        )
        _check(
            _is_int(self.every_steps) and self.every_steps > 0,
            "eval.every_steps",
            "a positive integer",
            self.every_steps,
        )
        _check(
            self.data_dir is None or isinstance(self.data_dir, str),
            "eval.data_dir",
            "a folder",
            self.data_dir,
        )


@dataclass(frozen=True)
class TrainConfig:
    """The whole training run. See ``configs/ru-en-rosberta.yaml`` for which values are the paper's.

    ``batch_size`` is per process (a DDP step sees ``world_size x batch_size`` anchors). ``save_steps`` > 0 writes a
    checkpoint every that many steps (keeping the newest ``save_total_limit``); ``resume`` continues from the newest
    checkpoint in ``output_dir``. ``resume`` is not part of the run's identity: it is left out of the saved config.
    """

    base_model: str
    datasets: tuple[DatasetConfig, ...]
    output_dir: str
    pooling: str = "cls"
    normalize: bool = True
    max_seq_length: int = 512
    temperature: float = 0.05
    batch_size: int = 256
    mini_batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    epochs: float = 1.0
    max_steps: int = -1
    precision: str = "bf16"
    seed: int = 42
    multi_dataset_sampler: str = "proportional"
    logging_steps: int = 10
    save_steps: int = 0
    save_total_limit: int = 2
    resume: bool = False
    prompts: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PROMPTS))
    eval: EvalConfig | None = None

    def __post_init__(self) -> None:
        _check(self.pooling in POOLING, "pooling", f"one of {', '.join(POOLING)}", self.pooling)
        _check(self.precision in PRECISION, "precision", f"one of {', '.join(PRECISION)}", self.precision)
        _check(
            self.multi_dataset_sampler in SAMPLERS,
            "multi_dataset_sampler",
            f"one of {', '.join(SAMPLERS)}",
            self.multi_dataset_sampler,
        )
        for name in ("max_seq_length", "batch_size", "mini_batch_size", "logging_steps", "save_total_limit"):
            value = getattr(self, name)
            _check(_is_int(value) and value > 0, name, "a positive integer", value)
        _check(
            _is_int(self.save_steps) and self.save_steps >= 0,
            "save_steps",
            "0 or a positive integer",
            self.save_steps,
        )
        _check(isinstance(self.resume, bool), "resume", "true or false", self.resume)
        _check(
            _is_int(self.max_steps) and self.max_steps != 0,
            "max_steps",
            "-1 or a positive integer",
            self.max_steps,
        )
        _check(_is_int(self.seed), "seed", "an integer", self.seed)
        for name in ("temperature", "learning_rate", "epochs"):
            value = getattr(self, name)
            _check(_is_number(value) and value > 0, name, "a positive number", value)
        _check(
            _is_number(self.warmup_ratio) and 0 <= self.warmup_ratio < 1,
            "warmup_ratio",
            "in [0, 1)",
            self.warmup_ratio,
        )
        _check(bool(self.datasets), "datasets", "a non-empty list", self.datasets)
        names = [d.name for d in self.datasets]
        _check(len(set(names)) == len(names), "datasets", "a list with unique names", names)


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
    """

    model_dir: Path
    losses: tuple[float, ...]
    global_step: int = 0
    step_datasets: tuple[str, ...] = ()
    world_size: int = 1
    resumed_from: Path | None = None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check(ok: bool, name: str, expected: str, value: object) -> None:
    if not ok:
        raise ValueError(
            f"The {name!r} parameter of the training config must be {expected}. Got {value!r} instead."
        )


def _reject_unknown(data: Mapping[str, Any], cls: type, where: str) -> None:
    known = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in known:
            raise unknown_name_error(f"key in {where}", key, known, fix=f"Known keys: {', '.join(known)}.")


def _dataset_from_dict(data: Any) -> DatasetConfig:
    if not isinstance(data, Mapping):
        raise ValueError(
            f"The 'datasets' parameter of the training config must hold mappings. Got {data!r} instead."
        )
    _reject_unknown(data, DatasetConfig, "a dataset")
    fields = dict(data)
    for required in ("name", "path", "anchor", "positive"):
        _check(
            isinstance(fields.get(required), str), f"datasets.{required}", "a string", fields.get(required)
        )
    negatives = fields.get("negatives", [])
    if isinstance(negatives, str):
        negatives = [negatives]
    _check(
        isinstance(negatives, list | tuple) and all(isinstance(n, str) for n in negatives),
        "datasets.negatives",
        "a column name or a list of column names",
        negatives,
    )
    fields["negatives"] = tuple(negatives)
    prefixes = fields.get("prefixes", {}) or {}
    _check(isinstance(prefixes, Mapping), "datasets.prefixes", "a mapping role -> prefix", prefixes)
    for role in prefixes:
        if role not in ROLES:
            raise unknown_name_error("prefix role", role, ROLES, fix=f"Roles: {', '.join(ROLES)}.")
    fields["prefixes"] = dict(prefixes)
    where = fields.get("where", {}) or {}
    _check(isinstance(where, Mapping), "datasets.where", "a mapping column -> value", where)
    fields["where"] = dict(where)
    max_rows = fields.get("max_rows")
    _check(
        max_rows is None or (_is_int(max_rows) and max_rows > 0),
        "datasets.max_rows",
        "a positive integer",
        max_rows,
    )
    return DatasetConfig(**fields)


def config_from_dict(data: Mapping[str, Any]) -> TrainConfig:
    """A validated `TrainConfig` from a mapping (parsed YAML). Unknown keys are rejected with suggestions.

    Example:
        >>> config_from_dict({"base_model": "m", "output_dir": "o", "datasets": [
        ...     {"name": "p", "path": "p.jsonl", "anchor": "a", "positive": "b"}]}).pooling
        'cls'
        >>> config_from_dict({"base_model": "m", "output_dir": "o", "datasets": [], "temprature": 0.1})
        Traceback (most recent call last):
        LookupError: Unknown key in the config 'temprature'. Did you mean: temperature? Known keys: ...
    """
    _reject_unknown(data, TrainConfig, "the config")
    fields = dict(data)
    for required in ("base_model", "output_dir", "datasets"):
        if required not in fields:
            raise ValueError(f"The training config must set {required!r}.")
    datasets = fields["datasets"]
    _check(isinstance(datasets, Sequence) and not isinstance(datasets, str), "datasets", "a list", datasets)
    fields["datasets"] = tuple(_dataset_from_dict(d) for d in datasets)
    if "prompts" in fields:
        _check(
            isinstance(fields["prompts"], Mapping), "prompts", "a mapping name -> prefix", fields["prompts"]
        )
        fields["prompts"] = dict(fields["prompts"])
    for name in ("temperature", "learning_rate", "warmup_ratio", "epochs"):
        if _is_int(fields.get(name)):
            fields[name] = float(fields[name])
    if fields.get("eval") is not None:
        fields["eval"] = _eval_from_dict(fields["eval"])
    return TrainConfig(**fields)


def _eval_from_dict(data: Any) -> EvalConfig:
    _check(isinstance(data, Mapping), "eval", "a mapping {tasks: [...], every_steps: N}", data)
    _reject_unknown(data, EvalConfig, "eval")
    fields = dict(data)
    for required in ("tasks", "every_steps"):
        if required not in fields:
            raise ValueError(
                f"The training config's 'eval' must set {required!r}, e.g. eval: {{tasks: [TERRa], every_steps: 500}}."
            )
    tasks = fields["tasks"]
    tasks = [tasks] if isinstance(tasks, str) else tasks
    _check(isinstance(tasks, list | tuple), "eval.tasks", "a list of task names", tasks)
    fields["tasks"] = tuple(tasks)
    return EvalConfig(**fields)


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> TrainConfig:
    """Read a YAML training config; ``overrides`` are ``KEY=VALUE`` strings for top-level keys (YAML values).

    Example:
        >>> load_config("configs/ru-en-rosberta.yaml", ["max_steps=10"]).max_steps  # doctest: +SKIP
        10
    """
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"The training config {str(path)!r} is not valid YAML: {err}") from err
    if not isinstance(data, Mapping):
        raise ValueError(
            f"The 'path' parameter of load_config must be a YAML mapping. Got {str(path)!r} instead."
        )
    data = dict(data)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(
                f"The 'overrides' parameter of load_config must hold KEY=VALUE. Got {item!r} instead."
            )
        try:
            data[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise ValueError(f"The override {item!r} does not hold a valid YAML value: {err}") from err
    return config_from_dict(data)


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    """Plain data (YAML-safe) of a config; ``config_from_dict(config_to_dict(c)) == c``."""

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return {f.name: plain(getattr(config, f.name)) for f in dataclasses.fields(config)} | {
        "datasets": [plain(dataclasses.asdict(d)) for d in config.datasets],
        "eval": None if config.eval is None else plain(dataclasses.asdict(config.eval)),
    }


def _load_dataset(spec: DatasetConfig, seed: int) -> Any:
    import datasets

    suffix = Path(spec.path).suffix.lower()
    builder = {".jsonl": "json", ".json": "json", ".parquet": "parquet"}.get(suffix)
    if builder is None:
        raise ValueError(
            f"The 'datasets.path' parameter of the training config must be a .jsonl, .json or .parquet file. "
            f"Got {spec.path!r} instead."
        )
    data = datasets.load_dataset(builder, data_files=spec.path, split="train")
    columns = [spec.anchor, spec.positive, *spec.negatives]
    missing = [c for c in [*columns, *spec.where] if c not in data.column_names]
    if missing:
        raise unknown_name_error(
            f"column of dataset {spec.name!r}",
            missing[0],
            data.column_names,
            fix=f"Columns: {data.column_names}.",
        )
    if spec.where:
        data = data.filter(lambda row: all(row[k] == v for k, v in spec.where.items()))
    data = data.filter(lambda row: all(isinstance(row[c], str) and row[c].strip() for c in columns))
    data = data.shuffle(seed=seed)
    if spec.max_rows is not None:
        data = data.select(range(min(spec.max_rows, len(data))))
    # Losses read columns by order: anchor, positive, then negatives.
    names = ["anchor", "positive", *[f"negative_{i + 1}" for i in range(len(spec.negatives))]]
    data = data.select_columns(columns)
    return data.rename_columns({old: new for old, new in zip(columns, names, strict=True) if old != new})


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

    from rumteb.models.merge import transformer_folder

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
        ImportError: without ``accelerate`` (``pip install rumteb[train]``).

    Example:
        >>> train(load_config("my.yaml")).model_dir  # doctest: +SKIP
    """
    try:
        import accelerate  # noqa: F401
        import yaml
    except ImportError as error:
        raise ImportError(
            f"Training needs the 'train' extra: pip install 'rumteb[train]' ({error})."
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

    from rumteb.models._train_sampler import StepAlignedBatchSampler

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
        from rumteb.evaluation import RuMTEBEvaluator

        evaluator = RuMTEBEvaluator(config.eval.tasks, data_dir=config.eval.data_dir)
        from rumteb._console import check_data_sources

        check_data_sources(evaluator.task_instances())
    train_data = datasets.DatasetDict({d.name: _load_dataset(d, config.seed) for d in config.datasets})
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
    )
