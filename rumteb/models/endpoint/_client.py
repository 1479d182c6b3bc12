"""The HTTP side of `rumteb.models.endpoint.EndpointEncoder`: OpenAI-compatible ``POST /v1/embeddings`` requests.

The routes are found, not assumed: ``GET {url}/v1/models``, then ``GET {url}/models`` (Infinity started without
``--url-prefix /v1`` serves its routes without the ``/v1``); embeddings go under the prefix that answered. With
neither, ``/v1/embeddings`` is tried, then ``/embeddings``; a 404 on both says that the URL's path is wrong.

Texts are cut into requests by a character budget (and a count limit: TEI refuses more than 32 inputs per request
by default), sent with up to ``max_concurrency`` in flight from a thread pool sharing one ``httpx.Client``, and put
back in input order by each item's ``index``. 429, 5xx, timeouts and dropped connections are retried with
exponential backoff (``Retry-After`` honoured); anything else fails at once with the URL, the status, an excerpt of
the body and the fix. The API key lives only in the client's headers: never in messages, logs or files.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from rumteb.errors import MissingExtraError, RumtebError

logger = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_EXCERPT = 300
#: Where OpenAI-compatible servers put their routes, in the order tried: vLLM, TEI and Infinity with
#: ``--url-prefix /v1`` under /v1; Infinity without it at the root.
PREFIXES = ("/v1", "")


class EndpointError(RumtebError, RuntimeError):
    """The embedding server refused a request, could not be reached, or answered something unusable."""


class PartialEmbeddings(Exception):
    """`EmbeddingsClient.embed` stopped after some requests had answered: ``done`` maps the rows answered to their
    vectors; ``cause`` is why. Control flow, not an error for users: `EndpointEncoder` keeps ``done`` and raises
    ``cause``."""

    def __init__(self, done: dict[range, np.ndarray], cause: BaseException) -> None:
        super().__init__(f"{sum(len(rows) for rows in done)} texts embedded before: {cause}")
        self.done = done
        self.cause = cause


def import_httpx() -> Any:
    try:
        import httpx
    except ImportError as err:  # the optional extra
        raise MissingExtraError(
            'Evaluating a served model needs httpx: pip install "rumteb[serve]" (or pip install httpx).'
        ) from err
    return httpx


def plan_requests(texts: Sequence[str], max_chars: int, max_texts: int) -> list[range]:
    """Consecutive runs of ``texts`` of at most ``max_chars`` characters and ``max_texts`` texts each.

    A text longer than the budget goes alone (the server truncates it to the model's length).
    """
    plan: list[range] = []
    start, chars = 0, 0
    for i, text in enumerate(texts):
        if i > start and (chars + len(text) > max_chars or i - start >= max_texts):
            plan.append(range(start, i))
            start, chars = i, 0
        chars += len(text)
    if start < len(texts):
        plan.append(range(start, len(texts)))
    return plan


class EmbeddingsClient:
    """Sends batches of texts to ``{base_url}/v1/embeddings`` and returns their vectors in order."""

    def __init__(
        self,
        base_url: str,
        display_url: str,
        model: str,
        *,
        api_key: str | None,
        max_concurrency: int,
        timeout: float,
        retries: int,
    ) -> None:
        httpx = import_httpx()
        self.model = model
        self.display_url = display_url
        self.max_concurrency = max_concurrency
        self.retries = retries
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=base_url,
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
        )
        self._lock = threading.Lock()
        self.stats = {"requests": 0, "retries": 0}
        self._answered = False  # a server that never answered is down or misnamed: fail fast, no retries
        # the routes: the prefix in use, whether an answer confirmed it, the names GET models listed (None: no
        # models route answered), and whether the models routes were asked
        self._route_lock = threading.RLock()  # _relocate asks the models routes, which may locate them
        self._prefix = PREFIXES[0]
        self._located = False
        self._served: list[str] | None = None
        self._asked_models = False

    @property
    def endpoint(self) -> str:
        """The embeddings URL in use (for messages), without credentials."""
        return f"{self.display_url}{self._prefix}/embeddings"

    def close(self) -> None:
        self._client.close()

    def embed(
        self, texts: Sequence[str], plan: Sequence[range], on_done: Callable[[int], None]
    ) -> np.ndarray:
        """One float32 row per text, in order; requests run ``max_concurrency`` at a time.

        Raises:
            PartialEmbeddings: A request failed (or the call was interrupted) after others had answered; carries
                the answers that did arrive, so that the caller can keep them, and the cause.
            EndpointError: A request failed before any had answered (or an interrupt, as it came).
        """
        if not plan:
            return np.zeros((0, 0), dtype=np.float32)
        parts: dict[int, np.ndarray] = {}

        def run(number: int) -> None:
            rows = plan[number]
            parts[number] = self._post([texts[i] for i in rows])
            on_done(len(rows))

        try:
            if self.max_concurrency == 1 or len(plan) == 1:
                for number in range(len(plan)):
                    run(number)
            else:
                with ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="rumteb-endpoint") as pool:
                    futures = [pool.submit(run, number) for number in range(len(plan))]
                    try:
                        for future in futures:
                            future.result()
                    except BaseException:
                        # stop sending: requests not started are dropped, those in flight finish (or fail)
                        pool.shutdown(wait=True, cancel_futures=True)
                        raise
        except BaseException as err:
            if not parts:
                raise  # nothing to keep: the error itself, as the caller would raise it
            done = {plan[number]: vectors for number, vectors in sorted(parts.items())}
            raise PartialEmbeddings(done, err) from err
        dims = {part.shape[1] for part in parts.values()}
        if len(dims) > 1:
            raise EndpointError(
                f"{self.endpoint} returned embeddings of different dimensions ({', '.join(map(str, sorted(dims)))}) "
                f"for model {self.model!r} within one call. Make sure one model serves that name (a load balancer "
                "in front of different models?)."
            )
        return np.concatenate([parts[number] for number in range(len(plan))])

    # --------------------------------------------------------------------------------------------------------

    def _post(self, batch: list[str]) -> np.ndarray:
        httpx = import_httpx()
        payload = {"model": self.model, "input": batch, "encoding_format": "float"}
        attempt = 0
        while True:
            with self._lock:
                self.stats["requests"] += 1
            delay: float | None = None
            prefix = self._prefix
            try:
                response = self._client.post(f"{prefix}/embeddings", json=payload)
            except (httpx.TimeoutException, httpx.TransportError) as err:
                if not self._answered and not isinstance(err, httpx.TimeoutException):
                    raise self._unreachable(err) from err
                if attempt >= self.retries:
                    raise self._unreachable(err) from err
                reason = f"{type(err).__name__}: {err}"
            else:
                if response.status_code == 200:
                    self._answered = True
                    self._found(prefix, f"POST {prefix}/embeddings")
                    return self._parse(response, len(batch))
                if response.status_code == 404 and not self._located and self._relocate(prefix):
                    continue  # the routes are under another prefix: send there, not counted as a retry
                if response.status_code not in RETRY_STATUS or attempt >= self.retries:
                    raise self._refused(response)
                reason = f"HTTP {response.status_code}"
                delay = _retry_after(response.headers.get("retry-after"))
            if delay is None:
                delay = min(30.0, 0.5 * 2**attempt) * (0.5 + random.random())
            attempt += 1
            with self._lock:
                self.stats["retries"] += 1
            logger.warning(
                "%s: %s; retry %d/%d in %.1f s", self.endpoint, reason, attempt, self.retries, delay
            )
            time.sleep(delay)

    def _parse(self, response: Any, expected: int) -> np.ndarray:
        try:
            data = response.json()["data"]
            items = sorted(data, key=lambda item: int(item["index"]))
            indices = [int(item["index"]) for item in items]
            vectors = np.asarray([item["embedding"] for item in items], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as err:
            raise EndpointError(
                f"{self.endpoint} answered 200 but not with the OpenAI embeddings schema "
                f"({{'data': [{{'index': ..., 'embedding': [...]}}]}}): {type(err).__name__}: {err}. Body: "
                f"{_excerpt(response.text)}. Is this an OpenAI-compatible embeddings server (vLLM, TEI, Infinity)?"
            ) from err
        if indices != list(range(expected)) or vectors.ndim != 2:
            raise EndpointError(
                f"{self.endpoint} returned {len(indices)} embeddings for {expected} inputs (indices "
                f"{indices[:5]}{'...' if len(indices) > 5 else ''}) for model {self.model!r}. The server must "
                "return one embedding per input; check its batch limits and that it serves an embedding model."
            )
        return vectors

    def _unreachable(self, err: BaseException) -> EndpointError:
        return EndpointError(
            f"Cannot reach the embedding server at {self.endpoint} ({type(err).__name__}: {err}). Start the "
            "server (vllm serve MODEL --task embed, text-embeddings-router --model-id MODEL, or infinity_emb v2 "
            "--model-id MODEL --url-prefix /v1) or fix the URL (--endpoint, url=); a slow server needs a larger "
            "timeout."
        )

    def _refused(self, response: Any) -> EndpointError:
        status = response.status_code
        body = _excerpt(response.text)
        if status in (401, 403):
            fix = "Pass the API key through an environment variable: --api-key-env VAR (api_key_env=)."
        elif status == 404 and self._served and self.model not in self._served:
            return self._wrong_name()
        elif status in (400, 422) and "model" in body.lower():
            served = self._served_models()
            fix = f"Check the model name (-m): the server serves {served}." if served else "Check -m."
        elif status == 413:
            fix = "Lower --max-tokens-per-request (the server's request size limit)."
        elif status in RETRY_STATUS:
            fix = f"Still failing after {self.retries} retries; is the server overloaded? Lower --max-concurrency."
        else:
            fix = "Check the server's log."
        return EndpointError(
            f"The embedding server at {self.endpoint} answered HTTP {status} for model {self.model!r}: {body}. "
            + fix
        )

    def _wrong_name(self) -> EndpointError:
        served = ", ".join(repr(i) for i in self._served or [])
        return EndpointError(
            f"The embedding server at {self.display_url} serves {served} (GET {self._prefix}/models), not "
            f"{self.model!r}: a wrong served name. Pass one of them as -m (model=), the served model name "
            "(vLLM's --served-model-name, Infinity's --served-model-name, TEI's --model-id)."
        )

    def _wrong_path(self) -> EndpointError:
        routes = " and ".join(f"{self.display_url}{prefix}/embeddings" for prefix in PREFIXES)
        return EndpointError(
            f"The embedding server at {self.display_url} answered HTTP 404 at {routes}, and lists no models at "
            f"{' or '.join(f'{prefix}/models' for prefix in PREFIXES)}: the URL's path is wrong. Pass the URL that "
            "the OpenAI routes are under (--endpoint, url=; http://HOST:PORT when the server answers at "
            "http://HOST:PORT/v1/embeddings), or start Infinity with --url-prefix /v1."
        )

    def _served_models(self) -> str:
        """The names the models route lists, for an error message; empty when the server does not say."""
        with self._route_lock:
            if not self._asked_models:
                self._ask_models()
        return ", ".join(repr(i) for i in self._served or [])

    def _ask_models(self) -> None:
        """``GET {prefix}/models`` for each prefix (caller holds the route lock): the first that lists models fixes
        the prefix and the served names. A slow server is left to the first request."""
        httpx = import_httpx()
        self._asked_models = True
        for prefix in PREFIXES:
            try:
                response = self._client.get(f"{prefix}/models")
            except httpx.TimeoutException:
                return
            except httpx.TransportError as err:
                raise self._unreachable(err) from err
            self._answered = True  # up: a dropped connection from now on is retried
            if response.status_code in (401, 403):
                raise self._refused(response)
            ids = _model_ids(response)
            if ids is not None:
                self._served = ids
                self._found(prefix, f"GET {prefix}/models")
                return

    def _found(self, prefix: str, how: str) -> None:
        """The routes are under ``prefix``: ``how`` answered there."""
        if self._located:
            return
        with self._route_lock:
            if not self._located:
                self._prefix, self._located = prefix, True
                logger.info("%s: %s answered; sending embeddings to %s", self.display_url, how, self.endpoint)

    def _relocate(self, used: str) -> bool:
        """After HTTP 404 to ``POST {used}/embeddings`` before any answer located the routes: True when they may
        be under another prefix (send there), False when the path is right and the 404 is about the request.

        The models routes decide when one answers (a 404 is then not the path's fault); without them the next
        prefix is tried.

        Raises:
            EndpointError: No prefix is left: the URL's path is wrong.
        """
        with self._route_lock:
            if self._prefix != used:  # another request moved on already
                return True
            if not self._asked_models:
                self._ask_models()
            if self._located:
                return self._prefix != used
            rest = PREFIXES[PREFIXES.index(used) + 1 :]
            if not rest:
                raise self._wrong_path()
            self._prefix = rest[0]
            return True

    def check_model(self) -> None:
        """Fail now when the server is down, wants a key, or lists its models and ``model`` is not one of them.

        Infinity and TEI embed with their one model whatever name a request gives, so the name is checked
        against the models route (``GET /v1/models``, else ``GET /models``, which also tells where the routes
        are); a server without it (or a slow one) is checked by the first request.
        """
        with self._route_lock:
            if not self._asked_models:
                self._ask_models()
        if self._served and self.model not in self._served:
            raise self._wrong_name()


def _model_ids(response: Any) -> list[str] | None:
    """The model ids of an OpenAI ``/models`` answer, ``None`` when it is not one."""
    if response.status_code != 200:
        return None
    try:
        return [str(item["id"]) for item in response.json()["data"]]
    except (ValueError, KeyError, TypeError):
        return None


def _retry_after(value: str | None) -> float | None:
    try:
        return min(60.0, max(0.0, float(value))) if value is not None else None
    except ValueError:
        return None


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= _EXCERPT else text[:_EXCERPT] + "...")
