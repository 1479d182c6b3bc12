"""An mteb encoder for a served model: any OpenAI-compatible ``/v1/embeddings`` endpoint (vLLM, TEI, Infinity).

`EndpointEncoder` sends texts to the server with several requests in flight (`rumteb.models.endpoint._client`),
applies the task's prompt client-side exactly as mteb resolves it, sends each distinct (prompt, text) once per run,
and with ``cache_dir`` never again: the cache is keyed by the served model name, its revision, the prompt and the
text, not by the URL, so the same model behind another server reuses it. What a failing call did get back is kept
too: a run stopped by a server that went away resumes where it stopped. Retrieval streams the corpus in chunks
(`rumteb.models.search._retrieval`), as with the local encoder: memory is bounded by ``max_memory``, not by the corpus.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from mteb.models.abs_encoder import AbsEncoder

from rumteb.models._inputs import MtebEncodeMixin
from rumteb.models.cache import EmbeddingStore, content_keys, namespace_id
from rumteb.models.endpoint._client import (
    EmbeddingsClient,
    EndpointError,
    PartialEmbeddings,
    import_httpx,
    plan_requests,
)
from rumteb.models.prompts import resolve_prompt, validate_prompts
from rumteb.models.search import RetrievalMixin

if TYPE_CHECKING:
    from mteb.abstasks.task_metadata import TaskMetadata
    from mteb.models.model_meta import ModelMeta
    from mteb.types import PromptType

__all__ = ["EndpointEncoder", "EndpointError", "served_model"]

logger = logging.getLogger(__name__)

NO_REVISION = "no_revision_available"  # mteb's own name for an unknown revision


class EndpointEncoder(RetrievalMixin, MtebEncodeMixin, AbsEncoder):
    """mteb's ``EncoderProtocol`` over an OpenAI-compatible embeddings server.

    Args:
        url: The server, ``http://host:port`` (a trailing ``/v1`` is accepted). Credentials in the URL are used
            for the requests but never shown.
        model: The served model name sent as ``"model"`` (vLLM: ``--served-model-name`` or the model id). The
            results are stored under it; a name without ``/`` becomes ``served/<name>`` (mteb needs ``org/name``).
        api_key_env: Name of the environment variable that holds the API key (sent as a Bearer token; never
            logged or written).
        max_concurrency: Requests in flight.
        max_tokens_per_request: Size budget of one request, counted in characters of prompt + text (no tokenizer
            on the client; a character is at most one token for the usual tokenizers, so the server's token
            limit holds).
        max_texts_per_request: At most this many texts per request (TEI's default limit is 32).
        model_revision: The revision of the served weights, for the results folder and the cache key. Default:
            mteb's ``no_revision_available``; give it with ``cache_dir`` so that new weights never reuse old
            embeddings.
        prompts: Prompts in mteb's key format (`rumteb.models.prompts`), prepended to the texts client-side.
        cache_dir: Keep embeddings on disk here: a re-run sends no request for texts already embedded, and a run
            that failed half-way (server gone, Ctrl-C) resumes from what came back.
        timeout: Seconds per request.
        retries: Retries per request on 429, 5xx, timeouts and dropped connections, with exponential backoff.
        memory_cache_bytes: Size of the in-run embedding memory.
        max_memory: Host memory budget of one retrieval corpus chunk, in bytes or as ``"4GiB"`` (default: a
            quarter of the free memory, at most 512 MiB); the corpus is embedded and searched chunk by chunk.
        check: Ask the server for its models (``GET /v1/models``) now, and embed one probe text to learn the
            dimension (unless ``cache_dir`` knows it): a server that is down, wants a key or serves another name
            fails here, not in the first task, and the model metadata written with the results has its dimension.

    Raises:
        ValueError: A bad parameter, or ``api_key_env`` names an unset variable.
        EndpointError: ``check`` and the server is down, refuses the key, or serves another model name.

    Example:
        >>> encoder = EndpointEncoder("http://localhost:8000", "intfloat/multilingual-e5-large")
        >>> import mteb, rumteb
        >>> results = mteb.evaluate(encoder, [rumteb.get_task("TERRa")])
    """

    mteb_model_meta: ModelMeta

    def __init__(
        self,
        url: str,
        model: str,
        *,
        api_key_env: str | None = None,
        max_concurrency: int = 4,
        max_tokens_per_request: int = 8192,
        max_texts_per_request: int = 32,
        model_revision: str | None = None,
        prompts: Mapping[str, str] | None = None,
        cache_dir: str | Path | None = None,
        timeout: float = 60.0,
        retries: int = 5,
        memory_cache_bytes: int = 1 << 30,
        max_memory: int | str | None = None,
        check: bool = True,
    ) -> None:
        from rumteb.models.runtime import parse_size

        for name, value in (
            ("max_concurrency", max_concurrency),
            ("max_tokens_per_request", max_tokens_per_request),
            ("max_texts_per_request", max_texts_per_request),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(
                    f"The {name!r} parameter of EndpointEncoder must be a positive int. Got {value!r} instead."
                )
        if not isinstance(retries, int) or retries < 0:
            raise ValueError(
                f"The 'retries' parameter of EndpointEncoder must be an int >= 0. Got {retries!r} instead."
            )
        if not (isinstance(timeout, int | float) and timeout > 0):
            raise ValueError(
                f"The 'timeout' parameter of EndpointEncoder must be positive. Got {timeout!r} instead."
            )
        if not isinstance(model, str) or not model.strip():
            raise ValueError(
                f"The 'model' parameter of EndpointEncoder must be the served model name. Got {model!r} instead."
            )
        base_url, self.display_url, host = _parse_url(url)
        api_key = None
        if api_key_env is not None:
            api_key = os.environ.get(api_key_env)
            if not api_key:
                raise ValueError(
                    f"The environment variable {api_key_env!r} (api_key_env) is not set or empty. Export the API "
                    f"key in it, or drop --api-key-env for a server without authentication."
                )
        self.model = model
        self.model_revision = model_revision
        self.max_tokens_per_request = max_tokens_per_request
        self.max_texts_per_request = max_texts_per_request
        self.model_prompts = validate_prompts(prompts, "EndpointEncoder") if prompts else {}
        self.embed_dim: int | None = None
        self.max_memory = None if max_memory is None else parse_size(max_memory, "EndpointEncoder")
        # retrieval (RetrievalMixin): vectors arrive on the CPU and are searched there
        self.devices = ["cpu"]
        self.engine = "local"
        self._search = None
        self._streaming = False
        self._client = EmbeddingsClient(
            base_url,
            self.display_url,
            model,
            api_key=api_key,
            max_concurrency=max_concurrency,
            timeout=float(timeout),
            retries=retries,
        )
        if check:
            self._client.check_model()
        settings: dict[str, object] = {
            "format": 1,
            "served_model": model,
            "revision": model_revision or NO_REVISION,
        }
        self._settings = settings
        self.namespace = namespace_id(settings)
        self.store = EmbeddingStore(memory_cache_bytes)
        self._cache_folder = None if cache_dir is None else Path(cache_dir).expanduser() / self.namespace
        if self._cache_folder is not None:
            if model_revision is None:
                logger.warning(
                    "cache_dir without model_revision: embeddings of %r are reused whatever weights the server "
                    "runs; pass model_revision (--model-revision) to tie them to one version",
                    model,
                )
            self._attach_cache_if_known()
        self.host = host
        self.mteb_model_meta = _build_meta(model, model_revision, host, bool(self.model_prompts))
        if check and self.embed_dim is None:
            self._send(["dimension probe"], False)  # sets embed_dim

    # --------------------------------------------------------------------------------------------------------

    @property
    def max_concurrency(self) -> int:
        return self._client.max_concurrency

    @property
    def stats(self) -> dict[str, int]:
        """Counts since construction: ``encoded`` (texts sent), ``memory_hits``, ``disk_hits``, ``requests``
        (HTTP requests, retries included) and ``retries``."""
        return {**self.store.stats, **self._client.stats}

    def _attach_cache_if_known(self) -> None:
        """Attach the disk cache once the dimension is known: from its ``namespace.json``, or the first answer."""
        folder = self._cache_folder
        if folder is None or self.store.disk is not None:
            return
        meta = folder / "namespace.json"
        if self.embed_dim is None and meta.is_file():
            import json

            self.embed_dim = int(json.loads(meta.read_text(encoding="utf-8"))["dim"])
        if self.embed_dim is not None:
            self.store.attach_disk(folder, self._settings, self.embed_dim)

    def encode_texts(
        self,
        texts: Sequence[str],
        *,
        prompt: str | None = None,
        show_progress_bar: bool = False,
        remember: bool = True,
    ) -> np.ndarray:
        """Embeddings of ``texts`` (float32, one row per text, in input order), with ``prompt`` prepended.

        ``remember=False`` keeps new embeddings out of the in-run memory (they still go to ``cache_dir``): streamed
        corpus chunks are seen once.

        Example:
            >>> encoder.encode_texts(["мама мыла раму"], prompt="query: ").dtype
            dtype('float32')
        """
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError(
                "The 'texts' parameter of EndpointEncoder.encode_texts must be a list of strings."
            )
        prompt = prompt or None
        keys = content_keys(self.namespace, prompt, texts)
        first: dict[bytes, int] = {}
        for i, key in enumerate(keys):
            first.setdefault(key, i)
        unique = list(first)
        cached = self.store.get(unique, remember=remember)
        todo = [j for j, vector in enumerate(cached) if vector is None]
        fresh = None
        if todo:
            inputs = [(prompt or "") + texts[first[unique[j]]] for j in todo]
            try:
                fresh = self._send(inputs, show_progress_bar)
            except PartialEmbeddings as stopped:
                self._keep_partial([unique[j] for j in todo], stopped, remember)
                raise stopped.cause from None
            self.store.put([unique[j] for j in todo], fresh, remember=remember)
        if not keys:
            return np.zeros((0, self.embed_dim or 0), dtype=np.float32)
        assert self.embed_dim is not None  # set by the first answer or read from the cache
        vectors = np.zeros((len(unique), self.embed_dim), dtype=np.float32)
        for j, vector in enumerate(cached):
            if vector is not None:
                vectors[j] = vector
        if fresh is not None:
            vectors[todo] = fresh
        row = {key: j for j, key in enumerate(unique)}
        return vectors[[row[k] for k in keys]]

    def _send(self, inputs: list[str], show_progress_bar: bool) -> np.ndarray:
        from tqdm.auto import tqdm

        plan = plan_requests(inputs, self.max_tokens_per_request, self.max_texts_per_request)
        bar = tqdm(
            total=len(inputs), desc="Encoding", unit=" texts", disable=not show_progress_bar, leave=False
        )
        with bar:
            vectors = self._client.embed(inputs, plan, bar.update)
        self._check_dim(int(vectors.shape[1]))
        return vectors

    def _keep_partial(self, keys: list[bytes], stopped: PartialEmbeddings, remember: bool) -> None:
        """Store what a failed call got back (in memory and ``cache_dir``), so that a retry in this process or the
        next run does not send it again."""
        if not stopped.done or len({v.shape[1] for v in stopped.done.values()}) > 1:
            return
        rows = [i for done in stopped.done for i in done]
        vectors = np.concatenate(list(stopped.done.values()))
        self._check_dim(int(vectors.shape[1]))
        self.store.put([keys[i] for i in rows], vectors, remember=remember)
        where = f" (kept in {self._cache_folder})" if self.store.disk is not None else ""
        logger.warning("%d of %d texts were embedded before the call failed%s", len(rows), len(keys), where)

    def _check_dim(self, dim: int) -> None:
        if self.embed_dim is not None and dim != self.embed_dim:
            raise EndpointError(
                f"{self._client.endpoint} returned {dim}-dimensional embeddings for model {self.model!r}, earlier "
                f"{self.embed_dim} (this run or the cache). The model behind the name changed: pass another "
                "--model-revision (or cache folder) for the new weights."
            )
        if self.embed_dim is None:
            self.embed_dim = dim
            self.mteb_model_meta = self.mteb_model_meta.model_copy(update={"embed_dim": dim})
            self._attach_cache_if_known()

    def get_prompt(self, task_metadata: TaskMetadata, prompt_type: PromptType | None) -> str | None:
        """The prompt text for a task and prompt type, in mteb's priority."""
        return resolve_prompt(self.model_prompts, task_metadata, prompt_type)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def __enter__(self) -> EndpointEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"EndpointEncoder({self.display_url!r}, {self.model!r}, max_concurrency={self.max_concurrency}, "
            f"max_tokens_per_request={self.max_tokens_per_request})"
        )


def _parse_url(url: str) -> tuple[str, str, str]:
    """``(base URL for requests, URL to show, scheme://host[:port] for the metadata)``, without a trailing /v1."""
    httpx = import_httpx()
    try:
        parsed = httpx.URL(url)
    except (TypeError, httpx.InvalidURL) as err:
        raise ValueError(
            f"The 'url' parameter of EndpointEncoder must be an http(s) URL. Got {url!r} instead."
        ) from err
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(
            "The 'url' parameter of EndpointEncoder must be an http(s) URL such as http://localhost:8000. Got "
            f"{parsed.copy_with(username=None, password=None)!s} instead."
        )
    path = parsed.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    base = parsed.copy_with(path=path or "/", query=None, fragment=None)
    shown = str(base.copy_with(username=None, password=None)).rstrip("/")
    port = f":{parsed.port}" if parsed.port else ""
    return str(base).rstrip("/"), shown, f"{parsed.scheme}://{parsed.host}{port}"


def served_model(
    name: str, revision: str | None = None, *, endpoint: str, served_model_name: str, **kwargs: Any
) -> EndpointEncoder:
    """The loader in a served model's metadata (``ModelMeta.load_model()``): the model ``served_model_name`` at
    ``endpoint``; ``name`` is the results' name (``served/<name>`` for a name without ``/``)."""
    return EndpointEncoder(endpoint, served_model_name, model_revision=revision, **kwargs)


def _build_meta(model: str, revision: str | None, host: str, uses_prompts: bool) -> ModelMeta:
    from mteb.models.model_meta import ModelMeta, ScoringFunction

    return ModelMeta.create_empty(
        overwrites={
            # model_meta.json says where the model was served: the loader and its arguments (no credentials)
            "loader": served_model,
            "loader_kwargs": {"endpoint": host, "served_model_name": model},
            "name": model if "/" in model else f"served/{model}",
            "revision": revision or NO_REVISION,
            "similarity_fn_name": ScoringFunction.COSINE,
            "framework": ["API"],
            "reference": host,
            "use_instructions": uses_prompts,
        }
    )
