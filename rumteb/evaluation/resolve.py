"""Resolving a model spec into an mteb encoder: a local folder, a name in mteb's or rumteb's registry, or a Hub id.

``auto`` picks rumteb's fast encoder where it runs the model as it is meant to run, else what ``mteb.evaluate``
would run; local folders are checked (weights present, no pickle unless allowed, no damaged files) before anything
loads.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rumteb.data import request_errors
from rumteb.errors import ParameterError, UnknownNameError
from rumteb.models.loading import weight_files, weights_fingerprint
from rumteb.models.settings import EncoderChoice, EncoderSettings, EndpointSettings

logger = logging.getLogger(__name__)

#: the settings sentence-transformers' encoder honours too; every other one is rumteb's encoder's own
_SENTENCE_TRANSFORMERS_FIELDS = frozenset({"device", "trust_remote_code", "allow_pickle"})


def load_model(
    model: str,
    settings: EncoderSettings | EndpointSettings | None = None,
    *,
    encoder: str = "auto",
    revision: str | None = None,
    prompts: Mapping[str, str] | None = None,
    before_loading: Callable[[], None] | None = None,
) -> Any:
    """An mteb encoder for ``model``: a local model folder, a name in mteb's (or rumteb's) registry, or a Hub id.

    ``encoder="auto"`` picks rumteb's fast encoder (`rumteb.models.Encoder`) for the models rumteb registers and
    for local folders it can run (a sentence-transformers folder, or a transformers folder with a ``pooling``
    setting), and otherwise runs the model exactly as ``mteb.evaluate`` would (mteb's loader or
    sentence-transformers). Of the `EncoderSettings`, sentence-transformers honours ``device``,
    ``trust_remote_code`` and ``allow_pickle`` only: any other one given is refused rather than ignored.

    A local folder is named ``local/<folder name>`` with a content hash of its weights as revision, so its results
    never land under mteb's ``no_model_name_available``. Weights stored only as pickle files (``*.bin``,
    ``*.pt``, ``*.ckpt``) are refused unless ``allow_pickle``; custom model code runs only with
    ``trust_remote_code``.

    Args:
        model: A local folder, a registered name or a Hub id; with `EndpointSettings`, the served model name.
        settings: `EncoderSettings` for a local model (None: the defaults), or `EndpointSettings` for a model
            behind an OpenAI-compatible server (then the encoder is `rumteb.models.EndpointEncoder`).
        encoder: An `EncoderChoice`: ``"auto"``, ``"rumteb"`` or ``"sentence-transformers"`` (``"auto"`` only
            with `EndpointSettings`).
        revision: The Hub revision; for a served model, the revision of its weights (results folder, cache key).
        prompts: Prompts in mteb's key format. None: the model's own (its registry entry's, its folder's);
            ``{}``: no prompts at all (a prefix ablation).
        before_loading: Called once the arguments are checked and before anything loads (``rumteb run`` checks
            the tasks' data there: fail in seconds, not after the model).

    Raises:
        ParameterError: A bad parameter: an unknown encoder, a missing folder, a file, a malformed Hub id, a
            revision other than a registered model's, or settings the chosen encoder does not have.
        UnknownNameError: ``model`` is no local folder, no registered name, and not found on the Hub (or offline).
        ModelFolderError: A folder without weights, with pickle-only weights, or with a damaged file.

    Example:
        >>> from rumteb.models import EncoderSettings, EndpointSettings
        >>> model = load_model("ai-forever/ru-en-RoSBERTa", EncoderSettings(device="cpu", precision="fp32"))
        >>> served = load_model("BAAI/bge-m3", EndpointSettings(url="http://localhost:8000"), prompts={})
    """
    choice = _encoder_choice(encoder)
    if isinstance(settings, EndpointSettings):
        if choice is not EncoderChoice.AUTO:
            expected = "'auto' for a served model (the server runs it)"
            raise ParameterError.invalid("load_model", "encoder", expected, encoder)
        if before_loading is not None:
            before_loading()
        return _load_endpoint(model, settings, revision, prompts)
    if settings is None:
        settings = EncoderSettings()
    elif not isinstance(settings, EncoderSettings):
        expected = "an EncoderSettings, an EndpointSettings or None"
        raise ParameterError.invalid("load_model", "settings", expected, settings)
    path = Path(model).expanduser()
    local = path.exists()
    if local and not path.is_dir():
        raise ParameterError.invalid("load_model", "model", "a model folder, not a file", str(path))
    if not local and (model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model):
        raise ParameterError(
            f"The model folder {model!r} does not exist. Pass an existing folder, a registered name or a Hub id."
        )
    if local:
        from rumteb.models.loading import check_model_folder, check_weights_format

        weight_files(path)  # a folder without weights fails here, for either encoder (hashed once, later)
        check_weights_format(path, settings.allow_pickle, model)
        # damaged files: one line naming the file, not a traceback
        check_model_folder(path, model, settings.trust_remote_code)
    else:
        _check_model_id(model)
    if choice is EncoderChoice.AUTO:
        choice = _pick_encoder(model, path if local else None, settings)
        logger.info("encoder='auto': using the %s encoder for %s", choice.value, model)
    if choice is EncoderChoice.RUMTEB:
        if before_loading is not None:
            before_loading()
        return _load_rumteb(model, settings, local=local, revision=revision, prompts=prompts)
    device = _one_device(settings)
    if before_loading is not None:
        before_loading()
    if local:
        loaded = _load_local(path, device, settings.trust_remote_code)
    else:
        import mteb

        # not on the Hub, unreachable, no mteb loader
        not_found: tuple[type[BaseException], ...] = (*request_errors(), NotImplementedError)
        try:
            loaded = mteb.get_model(model, revision, device=device)
        except not_found as err:
            raise _unknown_model(model, err) from err
    _set_prompts(loaded, prompts)
    return loaded


def _encoder_choice(encoder: str) -> EncoderChoice:
    try:
        return EncoderChoice(encoder)
    except ValueError:
        expected = "one of " + ", ".join(choice.value for choice in EncoderChoice)
        raise ParameterError.invalid("load_model", "encoder", expected, encoder) from None


class _UnusedSettingsError(ParameterError):
    """Settings the chosen encoder does not have, several at once; `for_options` names them by their options."""

    def __init__(self, parameters: Sequence[str]) -> None:
        self.parameters = tuple(parameters)
        self.parameter, self.owner = self.parameters[0], "load_model"
        super().__init__(self._text(lambda name: name, "encoder='rumteb'"))

    def _text(self, name_of: Callable[[str], str], switch: str) -> str:
        names = ", ".join(name_of(parameter) for parameter in self.parameters)
        are = "is a setting" if len(self.parameters) == 1 else "are settings"
        return (
            f"{names} {are} of rumteb's encoder; the sentence-transformers encoder runs in fp32 without a cache, "
            f"as mteb does. Use {switch} or drop {names}."
        )

    def for_options(self, options: Mapping[str, str]) -> str:
        encoder = options.get("encoder")
        switch = f"{encoder} rumteb" if encoder else "encoder='rumteb'"
        return self._text(lambda name: options.get(name, name), switch)


def _one_device(settings: EncoderSettings) -> str | None:
    """The sentence-transformers encoder's device; any setting it lacks is refused, not ignored."""
    unused = [name for name in settings.given() if name not in _SENTENCE_TRANSFORMERS_FIELDS]
    if unused:
        raise _UnusedSettingsError(unused)
    devices = settings.devices_named()
    if len(devices) > 1:
        expected = "one device for the sentence-transformers encoder (rumteb's encoder runs on several)"
        raise ParameterError.invalid("load_model", "device", expected, ",".join(devices))
    if devices:
        from rumteb.models.runtime import parse_devices

        parse_devices(
            devices[0]
        )  # a device this machine lacks (CUDA on a CPU build of torch): one clear error
    return devices[0] if devices else None


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


def _pick_encoder(spec: str, folder: Path | None, settings: EncoderSettings) -> EncoderChoice:
    """``auto``: rumteb's encoder where it runs the model as it is meant to run, else sentence-transformers."""
    rumteb, sentence_transformers = EncoderChoice.RUMTEB, EncoderChoice.SENTENCE_TRANSFORMERS
    if folder is None:
        return rumteb if _rumteb_meta(spec) is not None else sentence_transformers
    if (folder / "modules.json").is_file():
        from rumteb.models import loading

        try:
            loading.resolve(folder, None, allow_pickle=True)  # load_model checked the weights' format
        except loading.MissingModelFileError:
            raise  # a damaged folder: sentence-transformers could not load it either
        except ValueError as err:  # modules rumteb's encoder lacks: sentence-transformers runs them
            logger.info("%s; using sentence-transformers", err)
            return sentence_transformers
        return rumteb
    # a plain transformers folder: rumteb's encoder needs to be told the pooling
    return rumteb if settings.pooling else sentence_transformers


def _load_rumteb(
    spec: str,
    settings: EncoderSettings,
    *,
    local: bool,
    revision: str | None,
    prompts: Mapping[str, str] | None,
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
            return meta.load_model(device=None if settings.device is None else str(settings.device))
        loader = getattr(meta.loader, "__name__", meta.loader)
        expected = f"'auto' or 'sentence-transformers' for {spec} (mteb's loader of it is {loader!r}, not a transformer)"
        raise ParameterError.invalid("load_model", "encoder", expected, EncoderChoice.RUMTEB.value)
    if meta is not None:
        registered = _registered_prompts(meta)
        revision = revision or meta.revision
        if revision != meta.revision:
            expected = (
                f"{meta.revision} for {spec}, the revision its registry entry (metadata, prompts) describes"
            )
            fix = "Drop it, or pass a local folder."
            raise ParameterError.invalid("load_model", "revision", expected, revision, fix)
    try:
        chosen = prompts if prompts is not None else registered
        encoder = Encoder.from_settings(spec, settings, revision=revision, prompts=chosen)
    except OSError as err:
        if local:
            raise
        raise _unknown_model(spec, err) from err
    if meta is not None:
        encoder.mteb_model_meta = meta.model_copy(update={"loader": Encoder})
    return encoder


def _load_endpoint(
    model: str, settings: EndpointSettings, revision: str | None, prompts: Mapping[str, str] | None
) -> Any:
    """The served model ``model``; a name rumteb or mteb registers brings its prompts."""
    from rumteb.models.endpoint import EndpointEncoder

    if prompts is None:
        meta = _rumteb_meta(model) or _mteb_meta(model)
        prompts = _registered_prompts(meta) if meta is not None else {}
        if prompts:
            logger.info("using the prompts registered for %s", model)
    return EndpointEncoder.from_settings(model, settings, model_revision=revision, prompts=prompts)


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
        expected = "an existing model folder, a model name in mteb's registry or a Hub id such as ai-forever/ru-en-RoSBERTa"
        raise ParameterError.invalid("load_model", "model", expected, spec)


def _unknown_model(spec: str, err: BaseException) -> UnknownNameError:
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

    from rumteb.models.loading import ModelFolderError

    revision = weights_fingerprint(path)
    try:
        st_model = SentenceTransformer(
            str(path), device=device, local_files_only=True, trust_remote_code=trust_remote_code
        )
    except (
        OSError
    ) as err:  # a file the folder's own configs name is missing or unreadable: the folder's fault
        raise ModelFolderError(
            f"Cannot load the model {str(path)!r}: {err.filename or 'a file'} is missing or unreadable "
            f"({err.strerror or err}). Re-download or re-save the model."
        ) from err
    wrapper = SentenceTransformerEncoderWrapper(st_model)
    name = f"local/{path.resolve().name}"
    wrapper.mteb_model_meta = wrapper.mteb_model_meta.model_copy(update={"name": name, "revision": revision})
    return wrapper


def _set_prompts(model: Any, prompts: Mapping[str, str] | None) -> None:
    """Prompts for mteb's wrappers: None keeps the model's own, ``{}`` drops them all."""
    if prompts is None:
        return
    if not hasattr(model, "model_prompts"):
        expected = f"None for {type(model).__name__}, which takes no mteb-style prompts"
        raise ParameterError.invalid("load_model", "prompts", expected, dict(prompts))
    from rumteb.models.prompts import validate_prompts

    model.model_prompts = validate_prompts(prompts, "load_model")
    if not prompts and hasattr(model, "model") and hasattr(model.model, "prompts"):
        model.model.prompts = {}  # sentence-transformers' own prompts too
