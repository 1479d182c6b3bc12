"""An mteb encoder for a served model: any OpenAI-compatible ``/v1/embeddings`` endpoint (vLLM, TEI, Infinity).

`EndpointEncoder` sends texts to the server with several requests in flight (`rumteb.models.endpoint._client`),
applies the task's prompt client-side exactly as mteb resolves it, sends each distinct (prompt, text) once per run,
and with ``cache_dir`` never again: the cache is keyed by the served model name, its revision, the prompt and the
text, not by the URL, so the same model behind another server reuses it. What a failing call did get back is kept
too: a run stopped by a server that went away resumes where it stopped. Retrieval streams the corpus in chunks
(`rumteb.models.search._retrieval`), as with the local encoder: memory is bounded by ``max_memory``, not by the corpus.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from mteb.models.abs_encoder import AbsEncoder

from rumteb.errors import ParameterError
from rumteb.models._inputs import MtebEncodeMixin, encode_loader
from rumteb.models.cache import CachedEmbedder, EmbeddingStore, IncompleteEmbeddings, namespace_id
from rumteb.models.endpoint._client import (
    EmbeddingsClient,
    EndpointError,
    PartialEmbeddings,
    import_httpx,
    plan_requests,
)
from rumteb.models.prompts import resolve_prompt, validate_prompts
from rumteb.models.search import StreamingSearch
from rumteb.models.settings import EndpointSettings

if TYPE_CHECKING:
    from mteb.abstasks.task_metadata import TaskMetadata
    from mteb.models.model_meta import ModelMeta
    from mteb.types import PromptType

__all__ = ["EndpointEncoder", "EndpointError", "served_model"]

logger = logging.getLogger(__name__)

NO_REVISION = "no_revision_available"  # mteb's own name for an unknown revision


class EndpointEncoder(MtebEncodeMixin, AbsEncoder):
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

    ``url`` and the keywords that size, time and cache the requests are one `rumteb.models.EndpointSettings`,
    checked on construction; `from_settings` takes that object instead.

    Raises:
        ParameterError: A bad parameter (a ``ValueError``), or ``api_key_env`` names an unset variable.
        EndpointError: ``check`` and the server is down, refuses the key, or serves another model name.

    Example:
        >>> encoder = EndpointEncoder("http://localhost:8000", "intfloat/multilingual-e5-large")
        >>> import mteb, rumteb
        >>> results = mteb.evaluate(encoder, [rumteb.get_task("TERRa")])
    """

    mteb_model_meta: ModelMeta
    settings: EndpointSettings  #: the server and the request sizes, checked and normalised

    @classmethod
    def from_settings(
        cls,
        model: str,
        settings: EndpointSettings,
        *,
        model_revision: str | None = None,
        prompts: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> EndpointEncoder:
        """The served model ``model`` with ``settings``: the same as passing each setting as a keyword.

        Args:
            model: The served model name sent as ``"model"``; the results are stored under it.
            settings: The server (``url``) and how requests are sized, timed and cached, already checked.
            model_revision: The revision of the served weights, for the results folder and the cache key.
            prompts: Prompts in mteb's key format, prepended to the texts client-side.
            check: Ask the server for its models and the embedding dimension now.

        Example:
            >>> from rumteb.models import EndpointSettings
            >>> settings = EndpointSettings(url="http://localhost:8000", max_concurrency=8)
            >>> encoder = EndpointEncoder.from_settings("intfloat/multilingual-e5-large", settings)
        """
        if not isinstance(settings, EndpointSettings):
            raise ParameterError.invalid("EndpointEncoder", "settings", "an EndpointSettings", settings)
        fields = {field.name: getattr(settings, field.name) for field in dataclasses.fields(settings)}
        url = fields.pop("url")
        return cls(url, model, model_revision=model_revision, prompts=prompts, check=check, **fields)

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
        # as given: the settings object checks and normalises every one, once
        arguments: dict[str, Any] = {
            "url": url,
            "api_key_env": api_key_env,
            "max_concurrency": max_concurrency,
            "max_tokens_per_request": max_tokens_per_request,
            "max_texts_per_request": max_texts_per_request,
            "timeout": timeout,
            "retries": retries,
            "cache_dir": cache_dir,
            "memory_cache_bytes": memory_cache_bytes,
            "max_memory": max_memory,
        }
        self.settings = EndpointSettings(**arguments)
        if not isinstance(model, str) or not model.strip():
            raise ParameterError.invalid("EndpointEncoder", "model", "the served model name", model)
        base_url, self.display_url, host = _parse_url(url)
        api_key = None
        if api_key_env is not None:
            api_key = os.environ.get(api_key_env)
            if not api_key:
                err = ParameterError(
                    f"The 'api_key_env' parameter of EndpointEncoder names {api_key_env!r}, an environment variable "
                    "that is not set or empty. Export the API key in it, or drop it for a server without "
                    "authentication."
                )
                err.parameter, err.owner = "api_key_env", "EndpointEncoder"
                raise err
        self.model = model
        self.model_revision = model_revision
        self.max_tokens_per_request = max_tokens_per_request
        self.max_texts_per_request = max_texts_per_request
        self.model_prompts = validate_prompts(prompts, "EndpointEncoder") if prompts else {}
        self.max_memory = self.settings.max_memory
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
        self.namespace = namespace_id(settings)
        self.store = EmbeddingStore(memory_cache_bytes)
        folder = None if cache_dir is None else Path(cache_dir).expanduser() / self.namespace
        if folder is not None and model_revision is None:
            logger.warning(
                "cache_dir without model_revision: embeddings of %r are reused whatever weights the server "
                "runs; pass model_revision (--model-revision) to tie them to one version",
                model,
            )
        self.host = host
        self.mteb_model_meta = _build_meta(model, model_revision, host, bool(self.model_prompts))
        # the dimension comes with the first answer, or from the cache folder's namespace.json
        self._embedder = embedder = CachedEmbedder(
            self._send,
            self.namespace,
            self.store,
            folder=folder,
            settings=settings,
            on_dim=self._check_dim,
            owner="EndpointEncoder",
        )
        # retrieval: the vectors arrive on the CPU and are searched there
        self._search = StreamingSearch(
            self,
            encode_loader,
            embed_dim=lambda: embedder.dim,
            max_memory=self.max_memory,
        )
        if check and self.embed_dim is None:
            probe = self._send(["dimension probe"], [], None, False)
            self._embedder.accept_dim(int(probe.shape[1]))

    # --------------------------------------------------------------------------------------------------------

    @property
    def max_concurrency(self) -> int:
        return self._client.max_concurrency

    @property
    def embed_dim(self) -> int | None:
        """The embedding dimension: None until the server's first answer (or the cache folder) tells it."""
        return self._embedder.dim

    @property
    def stats(self) -> dict[str, int]:
        """Counts since construction: ``encoded`` (texts sent), ``memory_hits``, ``disk_hits``, ``requests``
        (HTTP requests, retries included) and ``retries``."""
        return {**self.store.stats, **self._client.stats}

    def encode_texts(
        self,
        texts: Sequence[str],
        *,
        prompt: str | None = None,
        show_progress_bar: bool = False,
        remember: bool = True,
    ) -> np.ndarray:
        """Embeddings of ``texts`` (float32, one row per text, in input order), with ``prompt`` prepended.

        Each distinct (prompt, text) is sent once per run, and with ``cache_dir`` never again; ``remember=False``
        keeps new embeddings out of the in-run memory (they still go to ``cache_dir``): streamed corpus chunks are
        seen once. What a failing call did get back is kept before the error is raised.

        Example:
            >>> encoder.encode_texts(["мама мыла раму"], prompt="query: ").dtype
            dtype('float32')
        """
        return self._embedder.embed(
            texts, prompt=prompt, show_progress_bar=show_progress_bar, remember=remember
        )

    def _send(
        self, inputs: list[str], keys: list[bytes], prompt: str | None, show_progress_bar: bool
    ) -> np.ndarray:
        """The server's embeddings of ``inputs`` (a `rumteb.models.cache.EmbedFunction`; the prompt is already in
        the inputs, and the requests keep their order, so ``keys`` and ``prompt`` are not needed)."""
        from tqdm.auto import tqdm

        plan = plan_requests(inputs, self.max_tokens_per_request, self.max_texts_per_request)
        bar = tqdm(
            total=len(inputs), desc="Encoding", unit=" texts", disable=not show_progress_bar, leave=False
        )
        try:
            with bar:
                return self._client.embed(inputs, plan, bar.update)
        except PartialEmbeddings as stopped:
            parts = stopped.done
            if len({vectors.shape[1] for vectors in parts.values()}) != 1:  # none came back, or mixed sizes
                raise stopped.cause from None
            rows = [i for done in parts for i in done]
            raise IncompleteEmbeddings(rows, np.concatenate(list(parts.values())), stopped.cause) from None

    def _check_dim(self, dim: int, known: int | None) -> None:
        """Refuse a dimension that changed (other weights behind the name); put the first in the metadata."""
        if known is not None and dim != known:
            raise EndpointError(
                f"{self._client.endpoint} returned {dim}-dimensional embeddings for model {self.model!r}, earlier "
                f"{known} (this run or the cache). The model behind the name changed: pass another "
                "model_revision (--model-revision), or another cache folder, for the new weights."
            )
        if known is None:
            self.mteb_model_meta = self.mteb_model_meta.model_copy(update={"embed_dim": dim})

    def index(self, corpus: Any, **kwargs: Any) -> None:
        """mteb's ``SearchProtocol.index``: keeps the corpus for `search`, which streams it through in chunks."""
        self._search.index(corpus, **kwargs)

    def search(self, queries: Any, **kwargs: Any) -> dict[str, dict[str, float]]:
        """mteb's ``SearchProtocol.search``: top-k documents per query (`rumteb.models.search.StreamingSearch`)."""
        return self._search.search(queries, **kwargs)

    def corpus_chunk_rows(self, device: str | None = None) -> int:
        """Documents per streamed corpus chunk, from ``max_memory`` (or the default budget)."""
        return self._search.corpus_chunk_rows(device)

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
