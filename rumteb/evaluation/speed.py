"""Size and speed of the model a ``rumteb run`` evaluates, recorded in ``run_settings.jsonl`` beside its results.

Per task, under the key ``"rumteb"`` of the task's run-settings entries:

- ``model``: ``n_parameters`` (counted on the loaded weights, else mteb's metadata), ``embed_dim``, ``device``
  and ``precision``;
- ``throughput``: ``texts``, ``tokens`` (after truncation, special tokens and prompt included), ``seconds`` spent
  inside the encoder's ``encode`` calls, ``texts_per_second`` and ``tokens_per_second``; ``reused`` counts texts
  whose embeddings came from an embedding cache: such calls are left out of the rates, which are null when every
  call reused something (a warm ``--cache-dir``) and tokens are null when the model's tokenizer is unknown. Calls
  of more than 20,000 texts have their tokens counted on an evenly spaced sample of 20,000 and scaled.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Throughput:
    """Encode calls of one task: texts, tokens and seconds of the calls that encoded everything they were given."""

    texts: int = 0
    tokens: int | None = 0
    seconds: float = 0.0
    reused: int = 0

    def as_dict(self) -> dict[str, Any]:
        rate = self.seconds > 0 and self.texts > 0
        return {
            "texts": self.texts,
            "tokens": self.tokens,
            "seconds": round(self.seconds, 6),
            "texts_per_second": round(self.texts / self.seconds, 2) if rate else None,
            "tokens_per_second": round(self.tokens / self.seconds, 2)
            if rate and self.tokens is not None
            else None,
            "reused": self.reused,
        }


class SpeedMeter:
    """Times a model's ``encode`` calls (the caller wraps each in `measure`) and counts their texts and tokens."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.task = Throughput()
        self._tokenizer = tokenizer_and_limit(model)

    def reset(self) -> None:
        """Start a new task."""
        self.task = Throughput()

    @contextmanager
    def measure(self, texts: Sequence[str] | None, prompt: str | None) -> Iterator[None]:
        """Time the encode call in the block; afterwards count its texts and tokens (outside the timing)."""
        hits = _hits(self.model)
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        reused = _hits(self.model) - hits
        if texts is None:
            return
        if reused:
            self.task.reused += reused
            return
        self.task.texts += len(texts)
        self.task.seconds += seconds
        if self.task.tokens is not None:
            counted = _count_tokens(self._tokenizer, texts, prompt or "")
            self.task.tokens = None if counted is None else self.task.tokens + counted


def recorder(model: Any, guard: Any) -> Callable[[], dict[str, Any]]:
    """What `rumteb.evaluation.result_store.SafeResultCache` adds to a finished task's run settings: the model's size,
    device and precision (counted once) and the task's encode throughput, read from the encode guard."""
    info: dict[str, Any] = {}

    def settings() -> dict[str, Any]:
        if not info:
            info.update(model_info(model, guard.dim))
        info["embed_dim"] = guard.dim
        return {"model": dict(info), "throughput": guard.speed.task.as_dict()}

    return settings


def model_info(model: Any, embed_dim: int | None) -> dict[str, Any]:
    """Parameters, embedding dimension, device and precision of an mteb model as ``rumteb run`` loaded it."""
    from rumteb.models.encoder import Encoder

    meta = getattr(model, "mteb_model_meta", None)
    params = count_parameters(model)
    if params is None and isinstance(getattr(meta, "n_parameters", None), int):
        params = meta.n_parameters  # type: ignore[union-attr]
    device: str | None
    precision: str | None
    from rumteb.models.endpoint import EndpointEncoder

    if isinstance(model, EndpointEncoder):  # the server's device and precision are not known here
        return {
            "n_parameters": params,
            "embed_dim": embed_dim,
            "device": None,
            "precision": None,
            "served": {
                "endpoint": model.host,
                "served_model_name": model.model,
                "max_concurrency": model.max_concurrency,
            },
        }
    if isinstance(model, Encoder):
        device, precision = ",".join(model.devices), str(model.precision)
    else:
        inner = getattr(model, "model", None)
        device = str(getattr(inner, "device", "")) or None
        dtype = getattr(inner, "dtype", None)
        precision = {"torch.float32": "fp32", "torch.bfloat16": "bf16", "torch.float16": "fp16"}.get(
            str(dtype), None if dtype is None else str(dtype)
        )
    return {"n_parameters": params, "embed_dim": embed_dim, "device": device, "precision": precision}


def count_parameters(model: Any) -> int | None:
    """On the loaded module (sentence-transformers), else from the safetensors headers of rumteb's encoder's
    folder (its weights live in a runtime or worker processes); None when neither is there.

    Example:
        >>> count_parameters(load_model("intfloat/multilingual-e5-small"))
        117653760
    """
    import torch

    from rumteb.models.encoder import Encoder

    if isinstance(model, Encoder):
        resolved = getattr(model, "_resolved", None)
        root = getattr(resolved, "root", None)
        return None if root is None else _safetensors_parameters(Path(root))
    module = getattr(model, "model", None)
    if isinstance(module, torch.nn.Module):
        return int(sum(p.numel() for p in module.parameters()))
    return None


def count_embedding_parameters(model: Any) -> int | None:
    """``vocab_size x hidden_size`` of the model's transformer config, mteb's own rule for
    ``ModelMeta.n_embedding_parameters`` (it reads the Hub's config.json; this reads the loaded config or the
    local folder's); None when neither is there.

    Example:
        >>> count_embedding_parameters(load_model("./all-MiniLM-L6-v2"))  # 30522 x 384
        11720448
    """
    from rumteb.models.encoder import Encoder

    config: dict[str, Any] | None = None
    if isinstance(model, Encoder):
        root = getattr(getattr(model, "_resolved", None), "root", None)
        path = None if root is None else Path(root) / "config.json"
        if path is not None and path.is_file():
            config = json.loads(path.read_text(encoding="utf-8"))
    else:
        module: Any = getattr(model, "model", None)
        first = next(iter(module), None) if hasattr(module, "__iter__") else None
        loaded = getattr(getattr(first, "auto_model", None), "config", None)
        config = loaded.to_dict() if loaded is not None else None
    if not config:
        return None
    text = config.get("text_config") or {}
    vocab = config.get("vocab_size") or text.get("vocab_size")
    hidden = (
        config.get("hidden_size")
        or config.get("hidden_dim")
        or text.get("hidden_size")
        or text.get("hidden_dim")
    )
    return int(vocab * hidden) if isinstance(vocab, int) and isinstance(hidden, int) else None


def _safetensors_parameters(folder: Path) -> int | None:
    """The number of values in the tensors of every ``*.safetensors`` file under ``folder`` (headers only)."""
    files = sorted(folder.rglob("*.safetensors"))
    if not files:
        return None
    total = 0
    for path in files:
        with path.open("rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            header = json.loads(handle.read(size))
        for name, entry in header.items():
            if name != "__metadata__":
                total += math.prod(entry["shape"])
    return total


def tokenizer_and_limit(model: Any) -> tuple[Any, int] | None:
    """The tokenizer and input limit of rumteb's encoder or of a sentence-transformers model, else None."""
    from rumteb.models.encoder import Encoder

    if isinstance(model, Encoder):
        return model.tokenizer, int(model.max_length)
    inner = getattr(model, "model", None)
    tokenizer = getattr(inner, "tokenizer", None)
    limit = getattr(inner, "max_seq_length", None)
    if tokenizer is not None and callable(tokenizer) and isinstance(limit, int) and limit > 0:
        return tokenizer, limit
    return None


#: Above this many texts in one call, tokens are counted on an evenly spaced sample of this size and scaled: a
#: retrieval corpus of millions of documents is not tokenized a second time just to be counted.
_TOKEN_SAMPLE = 20_000


def _count_tokens(tokenizer: tuple[Any, int] | None, texts: Sequence[str], prompt: str) -> int | None:
    if tokenizer is None:
        return None
    encode, limit = tokenizer
    step = max(1, -(-len(texts) // _TOKEN_SAMPLE))
    sample = texts[::step]
    total = 0
    for start in range(0, len(sample), 4096):
        chunk = [prompt + t for t in sample[start : start + 4096]]
        ids = encode(chunk, add_special_tokens=True, truncation=True, max_length=limit)["input_ids"]
        total += sum(len(row) for row in ids)
    return total if step == 1 else round(total * len(texts) / len(sample))


def _hits(model: Any) -> int:
    stats = getattr(model, "stats", None)
    if not isinstance(stats, dict):
        return 0
    return int(stats.get("memory_hits", 0)) + int(stats.get("disk_hits", 0))
