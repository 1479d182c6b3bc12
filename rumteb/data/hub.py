"""The Hub seen from rumteb: a failed download or look-up as one `HubError` line, and the online check of a run.

huggingface_hub raises its own classes (``RepositoryNotFoundError``, ``GatedRepoError``, ``HfHubHTTPError`` with a
429, ``LocalEntryNotFoundError`` wrapping a dropped connection) and ``datasets`` re-raises some as ``ConnectionError``;
`hub_error` words each as one line naming the repository and the fix. huggingface_hub already retries 429s (with
``Retry-After``) and resumes a cut file with a Range request; what still escapes is reported, never retried forever.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rumteb.data.errors import DataError


class HubError(DataError, ConnectionError):
    """The Hub (``HF_ENDPOINT``) could not give a dataset: not found, gated, rate limited, unreachable, or a
    download cut off. The message names the repository and the fix."""


def endpoint() -> str:
    """The Hub's address huggingface_hub uses (``HF_ENDPOINT``, default https://huggingface.co)."""
    from huggingface_hub import constants

    return str(constants.ENDPOINT)


def request_errors() -> tuple[type[BaseException], ...]:
    """The exception classes a failed Hub request raises: OSError (huggingface_hub's own errors) and, since
    huggingface_hub 1.x, its HTTP client's ``HTTPError`` (httpx2 or httpx by version), which is no OSError.

    Example:
        >>> OSError in request_errors()
        True
    """
    import importlib
    import importlib.util

    errors: list[type[BaseException]] = [OSError]
    for client in ("httpx2", "httpx"):
        if importlib.util.find_spec(client) is not None:
            errors.append(importlib.import_module(client).HTTPError)
    return tuple(errors)


def _chain(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status(err: BaseException) -> int | None:
    response = getattr(err, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def hub_error(repo_id: str, revision: str, err: BaseException, folder: Path | None = None) -> HubError | None:
    """`HubError` for a failed Hub request about ``repo_id``, or None when ``err`` is not about the Hub (a bug).

    Args:
        repo_id: The dataset repository.
        revision: The revision asked for.
        err: What huggingface_hub or datasets raised.
        folder: The mirror folder being pulled into (named as left untouched), if any.

    Example:
        >>> hub_error("mteb/TERRa", "48312c33", GatedRepoError("401 ..."))  # doctest: +SKIP
        HubError('The dataset mteb/TERRa on https://huggingface.co is gated (HTTP 401): ...')
    """
    import httpx2
    from huggingface_hub import errors as hf

    where = f"The dataset {repo_id}@{revision[:10]} on {endpoint()}"
    page = f"https://huggingface.co/datasets/{repo_id}"
    untouched = f"; {folder} was not changed" if folder is not None else ""
    for cause in _chain(err):
        status = _status(cause)
        if isinstance(cause, hf.OfflineModeIsEnabled):
            return HubError(
                f"{where} cannot be fetched: huggingface_hub is offline (HF_HUB_OFFLINE=1). Unset HF_HUB_OFFLINE "
                f"on a machine with Hub access{untouched}."
            )
        if isinstance(cause, hf.GatedRepoError) or status in (401, 403):
            return HubError(
                f"{where} is gated or private (HTTP {status or 401}): accept its terms on {page} and set HF_TOKEN "
                f"to a token that has access (or run 'hf auth login'), then run again{untouched}."
            )
        if isinstance(cause, hf.RevisionNotFoundError):
            return HubError(f"{where}: the revision {revision} does not exist there{untouched}.")
        if isinstance(cause, hf.RepositoryNotFoundError) or status == 404:
            return HubError(
                f"{where} was not found (HTTP 404): check the dataset id, or HF_ENDPOINT if it points at a "
                f"mirror of the Hub; a private dataset also needs HF_TOKEN{untouched}."
            )
        if status == 429:
            return HubError(
                f"{where} is rate limited (HTTP 429, still after huggingface_hub's retries): wait a few minutes "
                f"and run again; a token (HF_TOKEN) gets a higher limit{untouched}."
            )
        if isinstance(cause, httpx2.TransportError | ConnectionError | TimeoutError):
            text = " ".join(str(cause).split())[:200] or type(cause).__name__
            return HubError(
                f"{where} could not be downloaded: the connection failed or was cut ({type(cause).__name__}: "
                f"{text}){untouched}. Check HF_ENDPOINT and the network, then run the same command again."
            )
    return None


def check_hub_access(datasets: Sequence[dict[str, Any]], tasks: Sequence[str]) -> None:
    """Before a model loads: ask the Hub for each dataset at its pinned revision (one small request each), so that
    an unreachable Hub, a gated or missing dataset fails in seconds with one line.

    Raises:
        HubError: The first dataset the Hub does not give.
    """
    from huggingface_hub import HfApi

    api = HfApi()
    seen: set[tuple[str, str]] = set()
    for dataset in datasets:
        key = (str(dataset["path"]), str(dataset["revision"]))
        if key in seen:
            continue
        seen.add(key)
        try:
            api.dataset_info(
                key[0], revision=key[1], timeout=float(os.environ.get("HF_HUB_ETAG_TIMEOUT", 10))
            )
        except Exception as err:  # classified below; anything not about the Hub keeps its traceback
            mapped = hub_error(*key, err)
            if mapped is None:
                raise
            raise HubError(f"{mapped} (needed by {', '.join(tasks[:5])})") from err


def resolve_commit(repo_id: str, revision: str = "main") -> str:
    """The 40-hex commit a branch or tag of a Hub dataset names now (one small request).

    Raises:
        HubError: The Hub does not give the dataset (not found, gated, unreachable, offline).

    Example:
        >>> resolve_commit("IlyaGusev/habr")  # doctest: +SKIP
        '3e67cc2...'
    """
    from huggingface_hub import HfApi

    try:
        info = HfApi().dataset_info(
            repo_id, revision=revision, timeout=float(os.environ.get("HF_HUB_ETAG_TIMEOUT", 10))
        )
    except Exception as err:  # classified below; anything not about the Hub keeps its traceback
        mapped = hub_error(repo_id, revision, err)
        if mapped is None:
            raise
        raise mapped from err
    return str(info.sha)


def cached_revision(repo_id: str, revision: str) -> bool:
    """Whether huggingface_hub's cache (``HF_HUB_CACHE``) holds ``repo_id`` at ``revision`` and at no other one.

    Offline, ``datasets`` ignores the revision and reads what its cache holds; a cache that only ever saw the pinned
    revision can only give that one.
    """
    from huggingface_hub import constants

    snapshots = Path(constants.HF_HUB_CACHE) / f"datasets--{repo_id.replace('/', '--')}" / "snapshots"
    held = [p.name for p in snapshots.iterdir()] if snapshots.is_dir() else []
    return held == [revision] and any((snapshots / revision).iterdir())
