"""The HTTP side of `rumteb.models.endpoint.EndpointEncoder`: OpenAI-compatible ``POST /v1/embeddings`` requests.

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

logger = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_EXCERPT = 300


class EndpointError(RuntimeError):
    """The embedding server refused a request, could not be reached, or answered something unusable."""


class PartialEmbeddings(Exception):
    """`EmbeddingsClient.embed` stopped early: ``done`` maps the rows answered to their vectors; ``cause`` is why."""

    def __init__(self, done: dict[range, np.ndarray], cause: BaseException) -> None:
        super().__init__(f"{sum(len(rows) for rows in done)} texts embedded before: {cause}")
        self.done = done
        self.cause = cause


def import_httpx() -> Any:
    try:
        import httpx
    except ImportError as err:  # the optional extra
        raise ImportError(
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
        self.endpoint = f"{display_url}/v1/embeddings"
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

    def close(self) -> None:
        self._client.close()

    def embed(
        self, texts: Sequence[str], plan: Sequence[range], on_done: Callable[[int], None]
    ) -> np.ndarray:
        """One float32 row per text, in order; requests run ``max_concurrency`` at a time.

        Raises:
            PartialEmbeddings: A request failed (or the call was interrupted); carries the answers that did arrive,
                so that the caller can keep them, and the cause.
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
            try:
                response = self._client.post("/v1/embeddings", json=payload)
            except (httpx.TimeoutException, httpx.TransportError) as err:
                if not self._answered and not isinstance(err, httpx.TimeoutException):
                    raise self._unreachable(err) from err
                if attempt >= self.retries:
                    raise self._unreachable(err) from err
                reason = f"{type(err).__name__}: {err}"
            else:
                if response.status_code == 200:
                    self._answered = True
                    return self._parse(response, len(batch))
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
            "--model-id MODEL --url-prefix /v1) or fix --endpoint; a slow server needs a larger timeout."
        )

    def _refused(self, response: Any) -> EndpointError:
        status = response.status_code
        body = _excerpt(response.text)
        if status in (401, 403):
            fix = "Pass the API key through an environment variable: --api-key-env VAR (api_key_env=)."
        elif status in (400, 404, 422) and "model" in body.lower():
            served = self._served_models()
            fix = f"Check the model name (-m): the server serves {served}." if served else "Check -m."
        elif status == 413:
            fix = "Lower --max-tokens-per-request (the server's request size limit)."
        elif status in RETRY_STATUS:
            fix = f"Still failing after {self.retries} retries; is the server overloaded? Lower --max-concurrency."
        else:
            fix = "Check -m, --endpoint and the server's log."
        return EndpointError(
            f"The embedding server at {self.endpoint} answered HTTP {status} for model {self.model!r}: {body}. "
            + fix
        )

    def _served_models(self) -> str:
        """The ids from ``GET /v1/models``, for the error message; empty when the server does not say."""
        try:
            ids = _model_ids(self._client.get("/v1/models"))
        except Exception:
            logger.debug("GET /v1/models failed", exc_info=True)
            return ""
        return ", ".join(repr(i) for i in ids or [])

    def check_model(self) -> None:
        """Fail now when the server is down, wants a key, or lists its models and ``model`` is not one of them.

        Infinity and TEI embed with their one model whatever name a request gives, so the name is checked
        against ``GET /v1/models``; a server without that route (or a slow one) is checked by the first request.
        """
        httpx = import_httpx()
        try:
            response = self._client.get("/v1/models")
        except httpx.TimeoutException:
            return
        except httpx.TransportError as err:
            raise self._unreachable(err) from err
        self._answered = True  # up: a dropped connection from now on is retried
        if response.status_code in (401, 403):
            raise self._refused(response)
        ids = _model_ids(response)
        if ids and self.model not in ids:
            raise EndpointError(
                f"The embedding server at {self.display_url} serves {', '.join(repr(i) for i in ids)} "
                f"(GET /v1/models), not {self.model!r}. Pass one of them as -m (the served model name: vLLM's "
                "--served-model-name, Infinity's --served-model-name, TEI's --model-id)."
            )


def _model_ids(response: Any) -> list[str] | None:
    """The model ids of an OpenAI ``/v1/models`` answer, ``None`` when it is not one."""
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
