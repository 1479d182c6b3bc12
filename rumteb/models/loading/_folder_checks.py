"""Refuse a damaged or pickle-only model folder before it loads: one message naming the file and the fix.

`check_weights_format` refuses weights stored only as pickle files (`PickleWeightsError`: loading a pickle can run
code) unless allowed. `check_model_folder` reads what loading a local folder will read (every JSON file, the
safetensors headers, torch zip checkpoints, ``modules.json`` and the sentence-transformers settings, the
transformer's config and tokenizer and, for BERT-family models, the weights against the config) and raises
`ModelFolderError` for the first damaged file. Used by `rumteb.models.loading._resolve.resolve` and, before an encoder is
built, by the evaluation layer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rumteb.errors import RumtebError

# the pooling modes of sentence-transformers (a Pooling config must name them; so must the encoder's argument)
POOLING_MODES = ("cls", "mean", "max", "mean_sqrt_len_tokens", "weightedmean", "lasttoken")
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


class ModelFolderError(RumtebError, ValueError):
    """A model folder that cannot be loaded: a damaged file (truncated or corrupt weights or JSON, no loadable
    tokenizer, a config that does not match the weights) or pickle-only weights. The message names the file and the
    fix."""


class PickleWeightsError(ModelFolderError):
    """A model's weights exist only as pickle files (``torch.load``), which can run code when loaded."""


def check_weights_format(folder: Path, allow_pickle: bool, name: str | None = None) -> None:
    """Refuse a model folder (or any module subfolder, e.g. ``2_Dense``) whose weights are pickle files only.

    Raises:
        PickleWeightsError: Such a folder, unless ``allow_pickle``.
    """
    if allow_pickle:
        return
    pickled: dict[Path, list[str]] = {}
    safe: set[Path] = set()
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or rel.startswith(".") or "/." in rel:
            continue
        if path.suffix == ".safetensors":
            safe.add(path.parent)
        elif path.suffix in _PICKLE_SUFFIXES and _looks_like_weights(path):
            pickled.setdefault(path.parent, []).append(rel)
    unsafe = sorted(f for parent, files in pickled.items() if parent not in safe for f in files)
    if unsafe:
        raise PickleWeightsError(
            f"The model {name or str(folder)!r} has pickle weights only ({', '.join(unsafe[:3])}): loading a pickle "
            "can run arbitrary code. Convert it to safetensors, or pass --allow-pickle (allow_pickle=True) if you "
            "trust its source."
        )


def _looks_like_weights(path: Path) -> bool:
    # tokenizers and training states also end in .bin/.pt (e.g. training_args.bin, optimizer.pt): not weights
    return not path.name.startswith(("training_args", "optimizer", "scheduler", "rng_state", "scaler"))


# --- damaged folders: one message naming the file and the fix ----------------------------------------------------

_FOLDER_FIX = (
    "Re-download or re-save the model; for a Hub snapshot, download it again or pass the --model-revision its "
    "files belong to."
)
_SAFETENSORS_DTYPES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "I16": 2, "F16": 2, "BF16": 2,
    "U32": 4, "I32": 4, "F32": 4, "U64": 8, "I64": 8, "F64": 8, "C64": 8,
}  # fmt: skip
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "sentencepiece.bpe.model", "spiece.model")
_TOKENIZER_EXTRAS = ("merges.txt", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json")
#: Encoder-only types whose parameters transformers names the same in the model and in its checkpoints, so the
#: weights can be matched against the config key by key. Other types get the header and tokenizer checks only.
_MATCHED_TYPES = (
    "bert",
    "roberta",
    "xlm-roberta",
    "camembert",
    "distilbert",
    "electra",
    "mpnet",
    "xlm-roberta-xl",
)
_CHECKED: set[tuple[Any, ...]] = set()


class _Damaged(Exception):
    def __init__(self, rel: str, problem: str) -> None:
        super().__init__(f"{rel} {problem}")
        self.rel, self.problem = rel, problem


def check_model_folder(folder: Path, name: str | None = None, trust_remote_code: bool = False) -> None:
    """Read what loading a local model folder will read, and refuse a damaged one with one line naming the file.

    Checks every ``*.json`` (parses), every ``*.safetensors`` (header, and tensors covering the file exactly: a
    truncated file fails here), ``modules.json`` (module folders exist), the transformer's ``config.json`` (loads),
    its tokenizer (loads, no more tokens than ``vocab_size``) and, for BERT-family models, the weights against the
    config (every tensor the config implies is there, with its shape). A folder that passed is not checked again in
    the same process while its files keep their sizes and mtimes. Flipped bytes inside tensor data cannot be seen
    (safetensors has no checksum).

    Raises:
        ModelFolderError: A damaged file, named, with the fix.

    Example:
        >>> check_model_folder(Path("models/my-model"))  # doctest: +SKIP
    """
    key = (str(folder.resolve()), trust_remote_code, *_folder_stamp(folder))
    if key in _CHECKED:
        return
    try:
        _check_folder(folder, trust_remote_code)
    except _Damaged as err:
        raise ModelFolderError(
            f"Cannot load the model {name or str(folder)!r}: {err.rel} {err.problem}. {_FOLDER_FIX}"
        ) from err.__cause__
    _CHECKED.add(key)


def _folder_stamp(folder: Path) -> tuple[Any, ...]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return tuple((p.relative_to(folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files)


def _one_line(err: BaseException) -> str:
    return f"{type(err).__name__}: {' '.join(str(err).split())}"[:300]


def _check_folder(folder: Path, trust_remote_code: bool) -> None:
    def rel(path: Path) -> str:
        return path.relative_to(folder).as_posix()

    visible = [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not rel(p).startswith(".") and "/." not in rel(p)
    ]
    for path in visible:
        if path.suffix == ".json":
            try:
                json.loads(path.read_bytes().decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError) as err:
                raise _Damaged(rel(path), f"is not valid JSON ({_one_line(err)})") from err
        elif path.suffix == ".safetensors":
            _safetensors_shapes(path, rel(path))
        elif path.suffix in _PICKLE_SUFFIXES and _looks_like_weights(path):
            _check_zip(path, rel(path))
    transformer = _transformer_dir(folder)
    where = "" if transformer == folder else f"{rel(transformer)}/"
    if not (transformer / "config.json").is_file():
        raise _Damaged(f"{where}config.json", "is missing (the transformer's configuration)")
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(
            str(transformer), local_files_only=True, trust_remote_code=trust_remote_code
        )
    except Exception as err:  # whatever transformers raises, the file is what to name
        raise _Damaged(f"{where}config.json", f"cannot be read ({_one_line(err)})") from err
    _check_tokenizer(transformer, where, config, trust_remote_code)
    _check_module_configs(folder, getattr(config, "hidden_size", None))
    if getattr(config, "model_type", None) in _MATCHED_TYPES and not getattr(config, "auto_map", None):
        _check_weights_match(transformer, where, config)


def _module_class_exists(type_name: str) -> bool:
    import importlib

    module_name, _, class_name = type_name.rpartition(".")
    try:
        if hasattr(importlib.import_module(module_name), class_name):
            return True
    except (ImportError, ValueError):
        pass  # a name sentence-transformers may still resolve itself, as below
    import sentence_transformers.models

    return hasattr(sentence_transformers.models, class_name)


def _check_module_configs(folder: Path, hidden_size: Any) -> None:
    """The sentence-transformers settings both encoders read: module types, pooling, similarity, prompts."""
    if not (folder / "modules.json").is_file():
        return
    for module in json.loads((folder / "modules.json").read_text(encoding="utf-8")):
        if not _module_class_exists(module["type"]):
            raise _Damaged("modules.json", f"names the module type {module['type']!r}, which does not exist")
        if module["type"].rsplit(".", 1)[-1] != "Pooling":
            continue
        rel = f"{module.get('path', '')}/config.json".lstrip("/")
        config = json.loads((folder / rel).read_text(encoding="utf-8")) if (folder / rel).is_file() else {}
        if not isinstance(config, dict):
            raise _Damaged(rel, "is not a JSON object")
        mode = config.get("pooling_mode")
        modes = [mode] if isinstance(mode, str) else mode if isinstance(mode, list) else []
        if mode is not None and (not modes or any(m not in POOLING_MODES for m in modes)):
            raise _Damaged(rel, f"has an unknown pooling_mode {mode!r} (one of {', '.join(POOLING_MODES)})")
        dim = config.get("embedding_dimension", config.get("word_embedding_dimension"))
        if isinstance(hidden_size, int) and dim is not None and dim != hidden_size:
            raise _Damaged(
                rel,
                f"says the embeddings have {dim!r} dimensions; the transformer's hidden_size is {hidden_size}",
            )
    path = folder / "config_sentence_transformers.json"
    settings = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if not isinstance(settings, dict):
        raise _Damaged(path.name, "is not a JSON object")
    similarity = settings.get("similarity_fn_name")
    if similarity is not None and similarity not in (
        "cosine",
        "dot",
        "euclidean",
        "manhattan",
        "maxsim",
        "meanmaxsim",
    ):
        raise _Damaged(path.name, f"has an unknown similarity_fn_name {similarity!r}")
    prompts = settings.get("prompts") or {}
    default = settings.get("default_prompt_name")
    if not isinstance(prompts, dict) or (default is not None and default not in prompts):
        raise _Damaged(path.name, f"has prompts {prompts!r} without its default_prompt_name {default!r}")


def _transformer_dir(folder: Path) -> Path:
    modules_path = folder / "modules.json"
    if not modules_path.is_file():
        return folder
    modules = json.loads(modules_path.read_text(encoding="utf-8"))
    if not isinstance(modules, list) or not all(
        isinstance(m, dict) and isinstance(m.get("type"), str) and isinstance(m.get("path", ""), str)
        for m in modules
    ):
        raise _Damaged("modules.json", "is not a list of modules with 'type' and 'path'")
    transformer = folder
    for module in modules:
        path = folder / module.get("path", "")
        kind = module["type"].rsplit(".", 1)[-1]
        outside = not path.resolve().is_relative_to(folder.resolve())
        if outside or (kind in ("Transformer", "Pooling", "Dense") and not path.is_dir()):
            raise _Damaged(
                "modules.json", f"names the module folder {module.get('path')!r}, which does not exist"
            )
        if kind == "Transformer":
            transformer = path
    return transformer


def _safetensors_shapes(path: Path, rel: str) -> dict[str, tuple[int, ...]]:
    """Tensor shapes from a safetensors header, checking that the tensors cover the data exactly (as safetensors
    does on load: a truncated file, a bad header or trailing bytes fail here)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise _Damaged(
                rel, f"is truncated ({size} bytes; a safetensors file starts with an 8-byte length)"
            )
        length = int.from_bytes(head, "little")
        if length > size - 8:
            raise _Damaged(
                rel, f"is truncated: its header length is {length} bytes, the file has {size - 8} left"
            )
        raw = handle.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError(f"a JSON {type(header).__name__}, not an object")
        spans, shapes = [], {}
        for key, info in header.items():
            if key == "__metadata__":
                continue
            shape, (begin, end) = [int(d) for d in info["shape"]], info["data_offsets"]
            count = 1
            for dim in shape:
                count *= dim
            if end - begin != count * _SAFETENSORS_DTYPES[info["dtype"]] or begin < 0:
                raise ValueError(f"tensor {key!r}: offsets {begin}..{end} do not fit {info['dtype']} {shape}")
            spans.append((begin, end))
            shapes[key] = tuple(shape)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError) as err:
        raise _Damaged(rel, f"has a corrupt header ({_one_line(err)})") from err
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            raise _Damaged(rel, f"has a corrupt header (tensor data has a gap or overlap at byte {begin})")
        position = end
    data = size - 8 - length
    if position > data:
        raise _Damaged(rel, f"is truncated: its tensors need {position} bytes of data, the file has {data}")
    if position < data:
        raise _Damaged(rel, f"has {data - position} bytes after its last tensor (corrupt or appended to)")
    return shapes


def _check_zip(path: Path, rel: str) -> None:
    """A pickle checkpoint in torch's zip format: the archive opens and every member matches its CRC."""
    import zipfile

    if not zipfile.is_zipfile(path):
        if path.stat().st_size == 0:
            raise _Damaged(rel, "is empty")
        return  # torch's legacy (pre-1.6) format or a truncated zip: torch.load reports it
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise _Damaged(rel, f"is corrupt ({_one_line(err)})") from err
    if bad is not None:
        raise _Damaged(rel, f"is corrupt (member {bad!r} fails its CRC check)")


def _check_tokenizer(transformer: Path, where: str, config: Any, trust_remote_code: bool) -> None:
    present = sorted(
        p.name
        for p in transformer.iterdir()
        if p.name in _TOKENIZER_FILES + _TOKENIZER_EXTRAS or p.suffix == ".model"
    )
    if not any(name in _TOKENIZER_FILES or name.endswith(".model") for name in present):
        raise _Damaged(
            f"{where}tokenizer.json",
            "is missing, and so is every other tokenizer file (vocab.txt, vocab.json with merges.txt, a "
            "SentencePiece *.model)",
        )
    from transformers import AutoTokenizer

    named = ", ".join(f"{where}{name}" for name in present)
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            str(transformer), local_files_only=True, trust_remote_code=trust_remote_code
        )
    except Exception as err:  # whatever transformers raises, the files are what to name
        raise _Damaged(named, f"do not load as a tokenizer ({_one_line(err)})") from err
    vocab_size = getattr(config, "vocab_size", None)
    if isinstance(vocab_size, int) and len(tokenizer) > vocab_size:
        raise _Damaged(
            named, f"define {len(tokenizer)} tokens, but {where}config.json's vocab_size is {vocab_size}"
        )


def _check_weights_match(transformer: Path, where: str, config: Any) -> None:
    """Every tensor the config implies is in the weights with its shape, and no extra layer is left out."""
    files = sorted(transformer.glob("*.safetensors"))
    if not files:
        return  # pickle weights: transformers reports mismatches itself
    import torch
    from transformers import AutoModel

    try:
        with torch.device("meta"):
            model = AutoModel.from_config(config)
    except Exception as err:  # the config is what transformers could not build a model from
        raise _Damaged(f"{where}config.json", f"does not describe a model ({_one_line(err)})") from err
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    prefix = f"{model.base_model_prefix}."
    found: dict[str, tuple[int, ...]] = {}
    source: dict[str, str] = {}
    for path in files:
        for key, shape in _safetensors_shapes(path, f"{where}{path.name}").items():
            key = key.removeprefix(prefix).replace("LayerNorm.gamma", "LayerNorm.weight")
            key = key.replace("LayerNorm.beta", "LayerNorm.bias")
            found[key], source[key] = shape, f"{where}{path.name}"
    weights = ", ".join(sorted(set(source.values())))
    if len(set(found) & set(expected)) < len(expected) // 2:
        return  # a naming scheme not understood here: leave it to transformers
    for key, shape in expected.items():
        if key in found and found[key] != shape:
            raise _Damaged(
                f"{where}config.json",
                f"does not match {source[key]}: {key} is {list(found[key])} in the weights, {list(shape)} by the "
                "config",
            )
    missing = [k for k in expected if k not in found and not k.startswith("pooler.")]
    if missing:
        raise _Damaged(
            f"{where}config.json",
            f"does not match {weights}: {len(missing)} tensors the config needs are not in the weights (first: "
            f"{missing[0]})",
        )
    tops = {k.split(".")[0] for k in expected}
    buffers = {name for name, _ in model.named_buffers()}  # e.g. position_ids: saved by older versions
    extra = [k for k in found if k not in expected and k not in buffers and k.split(".")[0] in tops]
    if extra:
        raise _Damaged(
            f"{where}config.json",
            f"does not match {weights}: {len(extra)} tensors of the weights have no place in the config (first: "
            f"{extra[0]})",
        )
