"""The training recipe's config schema: the validated dataclasses of a YAML training config and their loading.

`TrainConfig` (with its `DatasetConfig` sources and optional `EvalConfig`) checks every value when built, and
`config_from_dict` / `load_config` reject unknown keys with suggestions; `config_to_dict` gives the plain data
back (written beside a trained model). `shipped_configs` and `resolve_config` find the configs shipped in the wheel
(the ``configs/`` folder beside this module). Light on purpose: no torch or sentence-transformers at import, so that
``rumteb --help`` can name the shipped configs; the training run itself is `rumteb.recipe.training`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rumteb._util.lookup import unknown_name_error
from rumteb.errors import ConfigError
from rumteb.models.settings import Precision
from rumteb.recipe._schema import _check, _is_int, _is_number, _reject_unknown
from rumteb.recipe.contamination import ExcludeConfig
from rumteb.recipe.source_config import DatasetConfig, dataset_from_dict

__all__ = [
    "DEFAULT_PROMPTS",
    "DatasetConfig",
    "EvalConfig",
    "TrainConfig",
    "config_from_dict",
    "config_to_dict",
    "load_config",
    "resolve_config",
    "shipped_configs",
]

POOLING = ("cls", "mean", "max", "lasttoken")
#: training precisions: the evaluation ones but auto (a training run names its own) and int8 (inference only)
PRECISION = tuple(precision.value for precision in (Precision.FP32, Precision.BF16, Precision.FP16))
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
    data_dir: str | None = None
    exclude_contaminated: ExcludeConfig | None = None

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
        _check(self.data_dir is None or isinstance(self.data_dir, str), "data_dir", "a folder", self.data_dir)
        _check(bool(self.datasets), "datasets", "a non-empty list", self.datasets)
        names = [d.name for d in self.datasets]
        _check(len(set(names)) == len(names), "datasets", "a list with unique names", names)


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
            raise ConfigError(f"The training config must set {required!r}.")
    datasets = fields["datasets"]
    _check(isinstance(datasets, Sequence) and not isinstance(datasets, str), "datasets", "a list", datasets)
    fields["datasets"] = tuple(dataset_from_dict(d) for d in datasets)
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
    fields["exclude_contaminated"] = ExcludeConfig.from_value(fields.get("exclude_contaminated"))
    return TrainConfig(**fields)


def _eval_from_dict(data: Any) -> EvalConfig:
    _check(isinstance(data, Mapping), "eval", "a mapping {tasks: [...], every_steps: N}", data)
    _reject_unknown(data, EvalConfig, "eval")
    fields = dict(data)
    for required in ("tasks", "every_steps"):
        if required not in fields:
            raise ConfigError(
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
        raise ConfigError(f"The training config {str(path)!r} is not valid YAML: {err}") from err
    if not isinstance(data, Mapping):
        raise ConfigError.invalid("load_config", "path", "a YAML mapping", str(path))
    data = dict(data)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError.invalid("load_config", "overrides", "KEY=VALUE strings", item)
        try:
            data[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise ConfigError(f"The override {item!r} does not hold a valid YAML value: {err}") from err
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
        "exclude_contaminated": None
        if config.exclude_contaminated is None
        else dataclasses.asdict(config.exclude_contaminated),
    }


def shipped_configs() -> dict[str, Path]:
    """Name -> path of the training configs shipped in the wheel (``rumteb/recipe/configs/*.yaml``)."""
    folder = Path(__file__).resolve().parent / "configs"
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


def resolve_config(value: str) -> Path:
    """A config file path, or the path of the shipped config called ``value``.

    Raises:
        LookupError: Neither an existing file nor a shipped config name (suggests the closest names).
    """
    path = Path(value).expanduser()
    if path.is_file():
        return path
    shipped = shipped_configs()
    if value in shipped:
        return shipped[value]

    raise unknown_name_error(
        "training config",
        value,
        list(shipped),
        f"Pass a YAML file or one of the shipped configs: {', '.join(shipped)}.",
    )
