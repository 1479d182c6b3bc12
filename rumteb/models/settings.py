"""How a model is run: one frozen settings object per kind of encoder, validated once, and the choices as str enums.

`EncoderSettings` is everything rumteb's own encoder (`rumteb.models.Encoder`) needs besides the model: device,
precision, batching, pooling, caches, memory budget, engine. `EndpointSettings` is the same for a served model
(`rumteb.models.EndpointEncoder`): the server and how requests are sized. Both check every field in
``__post_init__`` and raise `rumteb.errors.ParameterError` naming the parameter (the command line shows it under its
option's name); a settings object that exists is valid. ``rumteb run`` builds one of them from its options and
hands it to `rumteb.evaluation.load_model`.

Example:
    >>> settings = EncoderSettings(precision="fp32", max_memory="1GiB")
    >>> settings.precision is Precision.FP32, settings.max_memory
    (True, 1073741824)
    >>> EncoderSettings(engine="spark")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    rumteb.errors.ParameterError: The 'engine' parameter of Encoder must be one of local, ray. Got 'spark' instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from rumteb.errors import ParameterError
from rumteb.models.loading import POOLING_MODES
from rumteb.models.runtime import normalize_device, parse_size

__all__ = [
    "EncoderChoice",
    "EncoderSettings",
    "EndpointSettings",
    "Engine",
    "Pooling",
    "Precision",
]


class Precision(StrEnum):
    """Weights and activations of rumteb's encoder; pooling and normalisation always run in fp32."""

    AUTO = "auto"  #: bf16 on CUDA and on CPUs with bf16 matrix units (AMX), else fp32
    FP32 = "fp32"
    BF16 = "bf16"
    FP16 = "fp16"
    INT8 = (
        "int8"  #: CPU only, BERT-family models: dynamic int8 linear layers (opt-in; scores differ from fp32)
    )


class Engine(StrEnum):
    """Where encoding runs: this process (or one worker process per device), or a Ray cluster."""

    LOCAL = "local"
    RAY = "ray"


class Pooling(StrEnum):
    """Sentence-transformers' pooling modes (several may be concatenated)."""

    CLS = "cls"
    MEAN = "mean"
    MAX = "max"
    LASTTOKEN = "lasttoken"
    MEAN_SQRT_LEN_TOKENS = "mean_sqrt_len_tokens"
    WEIGHTEDMEAN = "weightedmean"


class EncoderChoice(StrEnum):
    """Which encoder runs a model (`rumteb.evaluation.load_model`): rumteb's, sentence-transformers' (exactly as
    ``mteb.evaluate``), or ``auto`` (rumteb's where it runs the model as it is meant to run)."""

    AUTO = "auto"
    SENTENCE_TRANSFORMERS = "sentence-transformers"
    RUMTEB = "rumteb"


assert {mode.value for mode in Pooling} == set(POOLING_MODES)

_E = TypeVar("_E", bound=StrEnum)


def _choice(owner: str, name: str, enum: type[_E], value: object) -> _E:
    try:
        return enum(value if isinstance(value, str) else "\0")
    except ValueError:
        expected = "one of " + ", ".join(member.value for member in enum)
        raise ParameterError.invalid(owner, name, expected, value) from None


def _positive_int(owner: str, name: str, value: object, *, optional: bool = True, minimum: int = 1) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        expected = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ParameterError.invalid(owner, name, expected, value)


def _memory(owner: str, value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ParameterError.invalid(owner, "max_memory", "a size such as 4GiB, 512MiB or 2G", value)
    return parse_size(value, owner)


def _folder(owner: str, name: str, value: object) -> Path | None:
    if value is None:
        return None
    path = Path(str(value)).expanduser()
    if path.exists() and not path.is_dir():
        raise ParameterError.invalid(owner, name, "a folder (created when missing), not a file", str(path))
    return path


def _set(settings: object, name: str, value: object) -> None:
    object.__setattr__(settings, name, value)  # frozen: normalise once, in __post_init__


@dataclass(frozen=True)
class EncoderSettings:
    """Settings of rumteb's encoder (`rumteb.models.Encoder`); every field is checked on construction.

    Args:
        device: ``"cpu"``, ``"cuda"`` (every visible GPU), ``"cuda:N"``, a GPU index, or several (a list or a
            comma-separated string; one worker process or Ray actor each). Default: CUDA if available, else the CPU.
        precision: A `Precision` (``"auto"``, ``"fp32"``, ``"bf16"``, ``"fp16"``, ``"int8"``).
        max_tokens_per_batch: Token budget of a batch (rows x longest row). Default: 2,048 on CPU, 65,536 on CUDA.
        pooling: One or several `Pooling` modes (a comma-separated string works too). Default: the model's.
        normalize: L2-normalise the embeddings. Default: the model's (True for a plain transformers folder).
        max_length: Truncate inputs to this many tokens (>= 2). Default: the model's.
        cache_dir: Keep embeddings on disk here; never encode the same input twice across runs.
        memory_cache_bytes: Size of the in-run embedding memory.
        max_memory: Host memory budget of one retrieval corpus chunk, in bytes or as ``"4GiB"`` (at least 64 MiB).
        engine: An `Engine` (``"local"`` or ``"ray"``).
        ray_address: The Ray cluster to join (``engine="ray"`` only). Default: ``RAY_ADDRESS``, else a new local one.
        trust_remote_code: Allow custom model code from the model folder.
        allow_pickle: Load weights stored only as pickle files (which can run code when loaded).

    Raises:
        ParameterError: A field with a bad value; the message names it and what it must be.
    """

    device: str | tuple[str, ...] | None = None
    precision: Precision = Precision.AUTO
    max_tokens_per_batch: int | None = None
    pooling: tuple[Pooling, ...] | None = None
    normalize: bool | None = None
    max_length: int | None = None
    cache_dir: Path | None = None
    memory_cache_bytes: int = 2 << 30
    max_memory: int | None = None
    engine: Engine = Engine.LOCAL
    ray_address: str | None = None
    trust_remote_code: bool = False
    allow_pickle: bool = False

    OWNER = "Encoder"

    def __post_init__(self) -> None:
        owner = self.OWNER
        _set(self, "device", _devices(owner, self.device))
        _set(self, "precision", _choice(owner, "precision", Precision, self.precision))
        _positive_int(owner, "max_tokens_per_batch", self.max_tokens_per_batch)
        _set(self, "pooling", _poolings(owner, self.pooling))
        for name in ("normalize",):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise ParameterError.invalid(owner, name, "True, False or None", value)
        _positive_int(owner, "max_length", self.max_length, minimum=2)
        _set(self, "cache_dir", _folder(owner, "cache_dir", self.cache_dir))
        _positive_int(owner, "memory_cache_bytes", self.memory_cache_bytes, optional=False, minimum=0)
        _set(self, "max_memory", _memory(owner, self.max_memory))
        _set(self, "engine", _choice(owner, "engine", Engine, self.engine))
        if self.ray_address is not None and self.engine is not Engine.RAY:
            raise ParameterError.invalid(
                owner, "ray_address", "left out unless the engine is 'ray'", self.ray_address
            )
        for name in ("trust_remote_code", "allow_pickle"):
            if not isinstance(getattr(self, name), bool):
                raise ParameterError.invalid(owner, name, "True or False", getattr(self, name))
        if self.precision is Precision.INT8:
            cuda = [d for d in self.devices_named() if d.startswith("cuda")]
            if cuda:
                err = ParameterError(
                    f"The 'precision' parameter of {owner} is 'int8', a CPU precision (dynamic int8 linear "
                    f"layers), but the device is {cuda[0]!r}. On CUDA use precision='bf16' or 'fp16'; for int8 "
                    "pass device='cpu'."
                )
                err.parameter, err.owner = "precision", owner
                raise err

    def devices_named(self) -> tuple[str, ...]:
        """The devices as given (empty for the default): no CUDA query, no expansion of ``"cuda"``."""
        if self.device is None:
            return ()
        return (self.device,) if isinstance(self.device, str) else tuple(self.device)

    def given(self) -> dict[str, Any]:
        """The fields that differ from their defaults (what the user set)."""
        default = EncoderSettings()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }

    def replace(self, **changes: Any) -> EncoderSettings:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)


def _devices(owner: str, value: object) -> str | tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) and "," in value:  # "cuda:0,1", as the command line takes it
        parts = [part for part in value.split(",") if part.strip()]
        value = parts[0] if len(parts) == 1 else parts
    if isinstance(value, str | int) and not isinstance(value, bool):
        return normalize_device(value, owner)
    if isinstance(value, Sequence) and not isinstance(value, str):
        devices = tuple(normalize_device(d, owner) for d in value)
        if not devices:
            raise ParameterError.invalid(owner, "device", "at least one device", list(value))
        return devices
    raise ParameterError.invalid(owner, "device", "a device name or a list of them", value)


def _poolings(owner: str, value: object) -> tuple[Pooling, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, Sequence) or not value:
        raise ParameterError.invalid(owner, "pooling", "one or several of " + ", ".join(POOLING_MODES), value)
    return tuple(_choice(owner, "pooling", Pooling, mode) for mode in value)


@dataclass(frozen=True)
class EndpointSettings:
    """Settings of a served model (`rumteb.models.EndpointEncoder`); every field is checked on construction.

    Args:
        url: The server, ``http://host:port`` (a trailing ``/v1`` is accepted).
        api_key_env: Name of the environment variable holding the API key (never the key itself).
        max_concurrency: Requests in flight.
        max_tokens_per_request: Size budget of one request, in characters of prompt + text.
        max_texts_per_request: At most this many texts per request (TEI's default limit is 32).
        timeout: Seconds per request.
        retries: Retries per request on 429, 5xx, timeouts and dropped connections (exponential backoff).
        cache_dir: Keep embeddings on disk here: a re-run sends nothing already embedded.
        memory_cache_bytes: Size of the in-run embedding memory.
        max_memory: Host memory budget of one retrieval corpus chunk, in bytes or as ``"4GiB"``.

    Raises:
        ParameterError: A field with a bad value; the message names it and what it must be.
    """

    url: str = dataclasses.field(repr=False)  # credentials in it are used, never shown
    api_key_env: str | None = None
    max_concurrency: int = 4
    max_tokens_per_request: int = 8192
    max_texts_per_request: int = 32
    timeout: float = 60.0
    retries: int = 5
    cache_dir: Path | None = None
    memory_cache_bytes: int = 1 << 30
    max_memory: int | None = None

    OWNER = "EndpointEncoder"

    def __post_init__(self) -> None:
        owner = self.OWNER
        _check_url(owner, self.url)
        if self.api_key_env is not None and (not isinstance(self.api_key_env, str) or not self.api_key_env):
            raise ParameterError.invalid(
                owner, "api_key_env", "the name of an environment variable", self.api_key_env
            )
        for name in ("max_concurrency", "max_tokens_per_request", "max_texts_per_request"):
            _positive_int(owner, name, getattr(self, name), optional=False)
        _positive_int(owner, "retries", self.retries, optional=False, minimum=0)
        if not isinstance(self.timeout, int | float) or isinstance(self.timeout, bool) or self.timeout <= 0:
            raise ParameterError.invalid(owner, "timeout", "a positive number of seconds", self.timeout)
        _set(self, "timeout", float(self.timeout))
        _set(self, "cache_dir", _folder(owner, "cache_dir", self.cache_dir))
        _positive_int(owner, "memory_cache_bytes", self.memory_cache_bytes, optional=False, minimum=0)
        _set(self, "max_memory", _memory(owner, self.max_memory))

    def replace(self, **changes: Any) -> EndpointSettings:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)


def _check_url(owner: str, url: object) -> None:
    if isinstance(url, str):
        try:
            parts = urlsplit(url.strip())
            port = parts.port  # a port that is no number raises ValueError
            valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (port is None or port > 0)
        except ValueError:
            valid = False
        if valid:
            return
        if "@" in url:  # never show credentials
            url = url.split("://", 1)[0] + "://***@" + url.rsplit("@", 1)[1]
    raise ParameterError.invalid(owner, "url", "an http(s) URL such as http://localhost:8000", url)
