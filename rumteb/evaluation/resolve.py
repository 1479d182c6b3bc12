"""Resolving a model spec into an mteb encoder: a local folder, a name in mteb's or rumteb's registry, or a Hub id.

``auto`` picks rumteb's fast encoder where it runs the model as it is meant to run, else what ``mteb.evaluate``
would run; local folders are checked (weights present, no pickle unless allowed, no damaged files) before anything
loads.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rumteb.models.loading import weight_files, weights_fingerprint

logger = logging.getLogger(__name__)

ENCODERS = ("auto", "sentence-transformers", "rumteb")


def load_model(
    spec: str,
    *,
    device: str | Sequence[str] | None = None,
    encoder: str = "auto",
    prompts: dict[str, str] | None = None,
    no_prompts: bool = False,
    revision: str | None = None,
    precision: str = "auto",
    cache_dir: Path | None = None,
    max_tokens_per_batch: int | None = None,
    pooling: str | None = None,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
    max_memory: str | int | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    before_loading: Callable[[], None] | None = None,
    endpoint: str | None = None,
    api_key_env: str | None = None,
    max_concurrency: int | None = None,
    max_tokens_per_request: int | None = None,
) -> Any:
    """An mteb encoder for ``spec``: a local model folder, a name in mteb's (or rumteb's) registry, or a Hub id.

    ``encoder="auto"`` picks rumteb's fast encoder (`rumteb.models.Encoder`) for the models rumteb registers and
    for local folders it can run (a sentence-transformers folder, or a transformers folder with ``pooling``), and
    otherwise runs the model exactly as ``mteb.evaluate`` would (mteb's loader or sentence-transformers).
    ``precision``, ``cache_dir``, ``max_tokens_per_batch``, ``pooling``, ``max_memory``, ``engine`` and
    ``ray_address`` are settings of rumteb's encoder.

    A local folder is named ``local/<folder name>`` with a content hash of its weights as revision, so its results
    never land under mteb's ``no_model_name_available``. Weights stored only as pickle files (``*.bin``,
    ``*.pt``, ``*.ckpt``) are refused unless ``allow_pickle``; custom model code runs only with
    ``trust_remote_code``. ``before_loading`` is called once the arguments are checked and before anything
    loads (``rumteb run`` checks the tasks' data there: fail in seconds, not after the model).

    With ``endpoint`` (an OpenAI-compatible server's URL), ``spec`` is the served model name and the encoder is
    `rumteb.models.endpoint.EndpointEncoder` (the endpoint options, ``cache_dir``, ``max_memory``, ``revision`` and
    the prompts apply, None meaning its default; the local encoders' settings are refused).

    Raises:
        FileNotFoundError: ``spec`` looks like a path but does not exist.
        LookupError: ``spec`` is no local folder, no registered name, and not found on the Hub (or offline).
        ValueError: Unknown encoder, a folder without weights, pickle-only weights, a malformed Hub id, or an
            encoder setting the chosen encoder lacks.
    """
    if encoder not in ENCODERS:
        raise ValueError(
            f"The '--encoder' option must be one of {', '.join(ENCODERS)}. Got {encoder!r} instead."
        )
    if endpoint is not None:
        local_only = {
            "--encoder": encoder != "auto" and encoder,
            "--device": device,
            "--precision": precision != "auto" and precision,
            "--max-tokens-per-batch": max_tokens_per_batch,
            "--pooling": pooling,
            "--engine ray": engine != "local" and engine,
            "--ray-address": ray_address,
            "--trust-remote-code": trust_remote_code,
            "--allow-pickle": allow_pickle,
        }
        extra = [name for name, value in local_only.items() if value]
        if extra:
            raise ValueError(
                f"{', '.join(extra)} {'is a setting' if len(extra) == 1 else 'are settings'} of the local encoders; "
                f"with --endpoint the server runs the model. Drop {', '.join(extra)} (--max-tokens-per-request and "
                "--max-concurrency size the requests)."
            )
        if before_loading is not None:
            before_loading()
        return _load_endpoint(
            endpoint,
            spec,
            api_key_env=api_key_env,
            max_concurrency=max_concurrency,
            max_tokens_per_request=max_tokens_per_request,
            revision=revision,
            prompts={} if no_prompts else prompts,
            cache_dir=cache_dir,
            max_memory=max_memory,
        )
    path = Path(spec).expanduser()
    local = path.exists()
    if local and not path.is_dir():
        raise ValueError(f"The model path {str(path)!r} is a file; pass the model's folder.")
    if not local and (spec.startswith((".", "/", "~")) or spec.count("/") > 1 or "\\" in spec):
        raise FileNotFoundError(
            f"The model folder {spec!r} does not exist. Pass an existing folder or a Hub id."
        )
    if local:
        from rumteb.models.loading import check_model_folder, check_weights_format

        weight_files(path)  # a folder without weights fails here, for either encoder (hashed once, later)
        check_weights_format(path, allow_pickle, spec)
        check_model_folder(
            path, spec, trust_remote_code
        )  # damaged files: one line naming the file, not a traceback
    else:
        _check_model_id(spec)
    if encoder == "auto":
        encoder = _pick_encoder(spec, path if local else None, pooling)
        logger.info("--encoder auto: using the %s encoder for %s", encoder, spec)
    if encoder == "rumteb":
        if before_loading is not None:
            before_loading()
        return _load_rumteb(
            spec,
            local=local,
            device=device,
            revision=revision,
            prompts={} if no_prompts else prompts,
            precision=precision,
            cache_dir=cache_dir,
            max_tokens_per_batch=max_tokens_per_batch,
            pooling=pooling,
            trust_remote_code=trust_remote_code,
            allow_pickle=allow_pickle,
            max_memory=max_memory,
            engine=engine,
            ray_address=ray_address,
        )
    given = {
        "--precision": precision != "auto" and precision,
        "--cache-dir": cache_dir,
        "--max-tokens-per-batch": max_tokens_per_batch,
        "--pooling": pooling,
        "--max-memory": max_memory,
        "--engine ray": engine != "local" and engine,
        "--ray-address": ray_address,
    }
    extra = [name for name, value in given.items() if value]
    if extra:
        raise ValueError(
            f"{', '.join(extra)} {'is a setting' if len(extra) == 1 else 'are settings'} of rumteb's encoder; "
            "the sentence-transformers encoder runs in fp32 without a cache, as mteb does. Use --encoder rumteb "
            f"or drop {', '.join(extra)}."
        )
    if device is not None and not isinstance(device, str):
        raise ValueError(
            f"The sentence-transformers encoder runs on one device. Got {list(device)!r}; use --encoder rumteb "
            "for several."
        )
    if before_loading is not None:
        before_loading()
    if local:
        model = _load_local(path, device, trust_remote_code)
    else:
        import mteb

        try:
            model = mteb.get_model(spec, revision, device=device)
        except (OSError, NotImplementedError) as err:  # not on the Hub, Hub unreachable, no mteb loader
            raise _unknown_model(spec, err) from err
    _set_prompts(model, prompts, no_prompts)
    return model


def _rumteb_meta(spec: str) -> Any:
    from rumteb.models import get_model_meta

    try:
        return get_model_meta(spec)
    except LookupError:
        return None


def _registered_prompts(meta: Any) -> dict[str, str]:
    """The prompts a registry entry (rumteb's or mteb's) passes to its loader."""
    kwargs = dict(meta.loader_kwargs or {})
    return dict(kwargs.get("prompts") or kwargs.get("model_prompts") or {})


def _pick_encoder(spec: str, folder: Path | None, pooling: str | None) -> str:
    """``auto``: rumteb's encoder where it runs the model as it is meant to run, else sentence-transformers."""
    if folder is None:
        return "rumteb" if _rumteb_meta(spec) is not None else "sentence-transformers"
    if (folder / "modules.json").is_file():
        from rumteb.models import loading

        try:
            loading.resolve(folder, None, allow_pickle=True)  # load_model checked the weights' format
        except ValueError as err:  # modules rumteb's encoder lacks: sentence-transformers runs them
            logger.info("%s; using sentence-transformers", err)
            return "sentence-transformers"
        return "rumteb"
    # a plain transformers folder: rumteb's encoder needs to be told the pooling
    return "rumteb" if pooling else "sentence-transformers"


def _load_rumteb(
    spec: str,
    *,
    local: bool,
    device: str | Sequence[str] | None,
    revision: str | None,
    prompts: dict[str, str] | None,
    precision: str,
    cache_dir: Path | None,
    max_tokens_per_batch: int | None,
    pooling: str | None,
    trust_remote_code: bool,
    allow_pickle: bool = False,
    max_memory: str | int | None = None,
    engine: str = "local",
    ray_address: str | None = None,
) -> Any:
    """rumteb's encoder. A registered model (rumteb's or mteb's) keeps its registry metadata and prompts.

    The encoder is built directly rather than through ``ModelMeta.load_model``: mteb turns every loader keyword
    into an "experiment" subfolder of the results, and these settings (precision, cache, token budget) do not
    change what is evaluated.
    """
    from rumteb.models.encoder import Encoder

    meta = None if local else (_rumteb_meta(spec) or _mteb_meta(spec))
    registered: dict[str, str] | None = None
    if meta is not None and not _is_transformer_meta(meta):
        if meta.name == "rumteb/navec-avg":  # a word-vector baseline: none of the encoder's settings apply
            return meta.load_model(device=None if device is None else str(device))
        raise ValueError(
            f"rumteb's encoder runs transformer encoders; mteb's loader of {spec!r} is "
            f"{getattr(meta.loader, '__name__', meta.loader)!r}. Use --encoder sentence-transformers."
        )
    if meta is not None:
        registered = _registered_prompts(meta)
        revision = revision or meta.revision
        if revision != meta.revision:
            raise ValueError(
                f"The '--model-revision' option must be {meta.revision} for {spec}, the revision its registry "
                f"entry (metadata, prompts) describes. Got {revision!r} instead; drop it or pass a local folder."
            )
    try:
        encoder = Encoder(
            spec,
            revision,
            device=device,
            precision=precision,
            cache_dir=cache_dir,
            max_tokens_per_batch=max_tokens_per_batch,
            pooling=pooling,
            prompts=prompts if prompts is not None else registered,
            trust_remote_code=trust_remote_code,
            allow_pickle=allow_pickle,
            max_memory=max_memory,
            engine=engine,
            ray_address=ray_address,
        )
    except OSError as err:
        if local:
            raise
        raise _unknown_model(spec, err) from err
    if meta is not None:
        encoder.mteb_model_meta = meta.model_copy(update={"loader": Encoder})
    return encoder


def _load_endpoint(
    url: str,
    model: str,
    *,
    api_key_env: str | None,
    max_concurrency: int | None,
    max_tokens_per_request: int | None,
    revision: str | None,
    prompts: dict[str, str] | None,
    **options: Any,  # cache_dir, max_memory: passed on
) -> Any:
    """The served model ``model`` at ``url``; a name rumteb or mteb registers brings its prompts."""
    from rumteb.models.endpoint import EndpointEncoder

    if prompts is None:
        meta = _rumteb_meta(model) or _mteb_meta(model)
        prompts = _registered_prompts(meta) if meta is not None else {}
        if prompts:
            logger.info("using the prompts registered for %s", model)
    sizes = {"max_concurrency": max_concurrency, "max_tokens_per_request": max_tokens_per_request}
    given: dict[str, Any] = {name: value for name, value in sizes.items() if value is not None}
    return EndpointEncoder(
        url,
        model,
        api_key_env=api_key_env,
        **given,
        model_revision=revision,
        prompts=prompts,
        **options,
    )


_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")


def _registered_names() -> list[str]:
    import mteb

    from rumteb.models import MODEL_METAS

    return sorted({m.name for m in [*mteb.get_model_metas(), *MODEL_METAS] if m.name})


def _check_model_id(spec: str) -> None:
    """A name that is not a local folder must be a registry name or a Hub id ``org/name`` (no ``..``)."""
    if spec in _registered_names():
        return
    if not _MODEL_ID.match(spec) or ".." in spec or spec.endswith((".", "-")):
        raise ValueError(
            "The '--model' option must be an existing model folder, a model name in mteb's registry or a Hub id "
            f"such as ai-forever/ru-en-RoSBERTa. Got {spec!r} instead."
        )


def _unknown_model(spec: str, err: BaseException) -> LookupError:
    from rumteb._util.lookup import unknown_name_error

    return unknown_name_error(
        "model",
        spec,
        _registered_names(),
        f"It is no local folder, no name in mteb's or rumteb's model registry, and loading it from the Hub "
        f"failed: {str(err).rstrip('.')}. Pass a model folder, a registered name, or a Hub id with network access (or in the "
        "Hugging Face cache).",
    )


def _mteb_meta(spec: str) -> Any:
    import mteb

    try:
        return mteb.get_model_meta(spec)
    except (KeyError, ValueError):
        return None


def _is_transformer_meta(meta: Any) -> bool:
    """Whether a registry entry is a plain transformer encoder that rumteb's encoder can stand in for."""
    from mteb.models import sentence_transformer_wrapper as st_wrapper

    from rumteb.models.encoder import Encoder

    loaders = (Encoder, st_wrapper.SentenceTransformerEncoderWrapper, st_wrapper.sentence_transformers_loader)
    return meta.loader in loaders


def _load_local(path: Path, device: str | None, trust_remote_code: bool = False) -> Any:
    from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper
    from sentence_transformers import SentenceTransformer

    revision = weights_fingerprint(path)
    st_model = SentenceTransformer(
        str(path), device=device, local_files_only=True, trust_remote_code=trust_remote_code
    )
    wrapper = SentenceTransformerEncoderWrapper(st_model)
    name = f"local/{path.resolve().name}"
    wrapper.mteb_model_meta = wrapper.mteb_model_meta.model_copy(update={"name": name, "revision": revision})
    return wrapper


def _set_prompts(model: Any, prompts: dict[str, str] | None, no_prompts: bool) -> None:
    if not (no_prompts or prompts):
        return
    if not hasattr(model, "model_prompts"):
        raise ValueError(
            f"Cannot set prompts on {type(model).__name__}: it does not take mteb-style prompts. Drop --prompts "
            "and --no-prompts for this model."
        )
    if no_prompts:
        model.model_prompts = {}
        if hasattr(model, "model") and hasattr(model.model, "prompts"):
            model.model.prompts = {}
        return
    from mteb.models.abs_encoder import AbsEncoder

    resolved, invalid = AbsEncoder.validate_task_to_prompt_name(prompts, raise_for_invalid_keys=False)
    if invalid:
        raise ValueError("Invalid keys in the prompts file:\n" + "\n".join(invalid))
    model.model_prompts = resolved
