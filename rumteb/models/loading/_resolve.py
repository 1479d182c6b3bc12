"""Find a model's files (local folder or Hub snapshot) and read what the encoder needs from its configs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rumteb.errors import MissingFileError, ParameterError
from rumteb.models.loading._folder_checks import (
    _FOLDER_FIX,
    POOLING_MODES,
    ModelFolderError,
    PickleWeightsError,
    check_model_folder,
    check_weights_format,
)

_LEGACY_POOLING = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}
_ACTIVATIONS = {"Identity": "identity", "Tanh": "tanh", "ReLU": "relu", "GELU": "gelu", "Sigmoid": "sigmoid"}
_HUB_PATTERNS = ["*.json", "*.txt", "*.model", "*.safetensors", "**/*.json", "**/*.safetensors", "**/*.txt"]


@dataclass(frozen=True)
class DenseSpec:
    """A sentence-transformers Dense module: weights file and activation, applied in fp32 after pooling."""

    path: str
    activation: str
    out_features: int


@dataclass(frozen=True)
class ModelSpec:
    """Everything a device runtime needs to rebuild the model (picklable: sent to worker processes)."""

    transformer_dir: str
    pooling: tuple[str, ...]
    normalize: bool
    include_prompt: bool
    max_length: int
    dense: tuple[DenseSpec, ...] = ()
    trust_remote_code: bool = False


@dataclass
class ResolvedModel:
    """A model's local files and the settings read from its sentence-transformers config (if any)."""

    root: Path
    transformer_dir: Path
    name: str
    revision: str | None
    is_local: bool
    st_config: bool
    pooling: tuple[str, ...] | None = None
    include_prompt: bool = True
    normalize: bool | None = None
    dense: tuple[DenseSpec, ...] = ()
    max_seq_length: int | None = None
    do_lower_case: bool = False
    prompts: dict[str, str] = field(default_factory=dict)
    default_prompt_name: str | None = None
    similarity_fn_name: str | None = None


def resolve(
    name_or_path: str | Path,
    revision: str | None,
    *,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
) -> ResolvedModel:
    """A local folder as is, or a Hub id through ``huggingface_hub.snapshot_download`` (offline: the HF cache).

    Pickle-only weights (``*.bin``, ``*.pt``, ``*.ckpt`` without ``*.safetensors``) are refused unless
    ``allow_pickle``: for a Hub model, they are then downloaded as a fallback.

    Raises:
        MissingFileError: A path that does not exist (a FileNotFoundError).
        PickleWeightsError: Pickle-only weights without ``allow_pickle``.
        ModelFolderError: A damaged file in a local folder (see `check_model_folder`), a file instead of a
            folder, or sentence-transformers modules rumteb's encoder does not run.
    """
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelFolderError(f"The model path {text!r} is a file; pass the model's folder.")
        root, name, is_local = path.resolve(), f"local/{path.resolve().name}", True
        check_weights_format(root, allow_pickle, text)
        check_model_folder(root, text, trust_remote_code)
    elif isinstance(name_or_path, Path) or text.startswith((".", "/", "~")) or text.count("/") > 1:
        raise MissingFileError(
            f"The model folder {text!r} does not exist. Pass an existing folder or a Hub id."
        )
    else:
        root, name, is_local = _snapshot(text, revision, trust_remote_code, allow_pickle), text, False
        revision = revision if revision and len(revision) == 40 else root.name
    model = ResolvedModel(
        root=root, transformer_dir=root, name=name, revision=revision, is_local=is_local, st_config=False
    )
    if (root / "modules.json").is_file():
        _read_sentence_transformers(model)
    return model


def _snapshot(
    repo_id: str, revision: str | None, trust_remote_code: bool, allow_pickle: bool = False
) -> Path:
    from huggingface_hub import snapshot_download

    patterns = [*_HUB_PATTERNS, "*.py"] if trust_remote_code else list(_HUB_PATTERNS)
    folder = Path(snapshot_download(repo_id, revision=revision, allow_patterns=patterns))
    if not any(folder.rglob("*.safetensors")):  # older repositories: PyTorch pickles only
        if not allow_pickle:
            raise PickleWeightsError(
                f"The model {repo_id!r} has no safetensors weights on the Hub, only PyTorch pickles (*.bin): "
                "loading a pickle can run arbitrary code. Pass --allow-pickle (allow_pickle=True) if you trust "
                "its source."
            )
        folder = Path(snapshot_download(repo_id, revision=revision, allow_patterns=[*patterns, "*.bin"]))
    return folder


class MissingModelFileError(ModelFolderError):
    """A JSON file the model folder's own configs name is missing, unreadable or malformed: the folder is damaged
    (no other encoder could load it either)."""


def _read_json(path: Path) -> Any:
    """A model folder's JSON file; a missing, unreadable or malformed one is the folder's fault, named as such."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        problem = "is missing" if isinstance(err, FileNotFoundError) else f"cannot be read ({err})"
        raise MissingModelFileError(
            f"Cannot load the model: its file {str(path)!r} {problem}. {_FOLDER_FIX}"
        ) from err


def _read_sentence_transformers(model: ResolvedModel) -> None:
    model.st_config = True
    modules = sorted(_read_json(model.root / "modules.json"), key=lambda m: m.get("idx", 0))
    dense: list[DenseSpec] = []
    for module in modules:
        kind = str(module["type"]).rsplit(".", 1)[-1]
        folder = model.root / module.get("path", "")
        if kind == "Transformer":
            model.transformer_dir = folder
            for config_name in ("sentence_bert_config.json", "sentence_xlnet_config.json"):
                if (folder / config_name).is_file():
                    config = _read_json(folder / config_name)
                    model.max_seq_length = config.get("max_seq_length")
                    model.do_lower_case = bool(config.get("do_lower_case", False))
        elif kind == "Pooling":
            config = _read_json(folder / "config.json")
            model.pooling = _pooling_modes(config)
            model.include_prompt = bool(config.get("include_prompt", True))
        elif kind == "Dense":
            config = _read_json(folder / "config.json")
            activation = str(config.get("activation_function", "torch.nn.modules.linear.Identity")).rsplit(
                ".", 1
            )
            if activation[-1] not in _ACTIVATIONS:
                raise ModelFolderError(f"Unsupported Dense activation {activation[-1]!r} in {folder}.")
            dense.append(
                DenseSpec(
                    path=str(folder),
                    activation=_ACTIVATIONS[activation[-1]],
                    out_features=int(config["out_features"]),
                )
            )
        elif kind == "Normalize":
            model.normalize = True
        else:
            raise ModelFolderError(
                f"The sentence-transformers module {module['type']!r} of {model.name} is not supported by rumteb's "
                "encoder (Transformer, Pooling, Dense and Normalize are). Use the sentence-transformers encoder."
            )
    if model.normalize is None:
        model.normalize = False
    model.dense = tuple(dense)
    config_path = model.root / "config_sentence_transformers.json"
    if config_path.is_file():
        config = _read_json(config_path)
        model.prompts = {k: v for k, v in (config.get("prompts") or {}).items() if isinstance(v, str)}
        model.default_prompt_name = config.get("default_prompt_name")
        model.similarity_fn_name = config.get("similarity_fn_name")


def _pooling_modes(config: dict[str, Any]) -> tuple[str, ...]:
    mode = config.get("pooling_mode")
    if mode is None:
        modes = tuple(m for key, m in _LEGACY_POOLING.items() if config.get(key))
        return modes or ("mean",)
    return (mode,) if isinstance(mode, str) else tuple(mode)


def check_pooling(pooling: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Normalise a pooling argument to a tuple of modes.

    Raises:
        ParameterError: An unknown mode.
    """
    modes = (pooling,) if isinstance(pooling, str) else tuple(pooling)
    if not modes or any(m not in POOLING_MODES for m in modes):
        expected = f"one of {', '.join(POOLING_MODES)} (or a tuple of them)"
        raise ParameterError.invalid("Encoder", "pooling", expected, pooling)
    return modes


def position_offset(config: Any) -> int:
    """First position id: ``padding_idx + 1`` for RoBERTa-style models (fairseq positions), else 0."""
    if config.model_type in ("roberta", "xlm-roberta", "camembert", "xlm-roberta-xl"):
        return int(config.pad_token_id) + 1
    return 0


def model_max_length(config: Any, tokenizer: Any, st_max_seq_length: int | None) -> int:
    """The longest input in tokens: sentence-transformers' ``max_seq_length``, else the tokenizer's limit, capped
    by the position table."""
    candidates = []
    if st_max_seq_length:
        candidates.append(int(st_max_seq_length))
    elif 0 < int(getattr(tokenizer, "model_max_length", 0) or 0) < 1_000_000:
        candidates.append(int(tokenizer.model_max_length))
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        candidates.append(positions - position_offset(config))
    if not candidates:
        raise ModelFolderError("Cannot tell the model's maximum input length; pass max_length=.")
    return min(candidates)
