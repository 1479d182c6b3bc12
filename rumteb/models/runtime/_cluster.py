"""Joining a Ray cluster: fail in seconds, naming the address and the fix, when nothing answers there.

``ray.init(address=...)`` retries an unreachable GCS for minutes before it gives up; `connect_ray` first opens a
TCP connection to the address (``host:port``, ``ray://host:port``, ``auto`` or ``RAY_ADDRESS``) with a short timeout.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from rumteb.errors import ClusterError

logger = logging.getLogger(__name__)

#: Seconds to wait for the TCP connection to the cluster's address.
PROBE_TIMEOUT = 5.0
_GCS_PORT = 6379  # `ray start --head`'s default
_CLIENT_PORT = 10001  # the Ray Client server's default (ray://)


def connect_ray(ray: Any, address: str | None) -> None:
    """``ray.init`` on the cluster at ``address`` (default: ``RAY_ADDRESS``; neither: a new local cluster).

    Raises:
        ClusterError: Nothing answers at the address (or ``auto`` finds no running cluster), within
            `PROBE_TIMEOUT` seconds.
    """
    source = ""
    if not address and os.environ.get("RAY_ADDRESS"):
        address, source = os.environ["RAY_ADDRESS"], " (from RAY_ADDRESS)"
    target = _probe_target(address, source) if address else None
    if target is not None:
        _probe(address or "", source, *target)
    try:
        ray.init(
            address=address or None,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    except ConnectionError as err:  # Ray's own "no running cluster" (auto) or a GCS that stopped answering
        raise ClusterError(_message(address or "", source, str(err), "ray start --head")) from err


def _probe_target(address: str, source: str) -> tuple[str, int, str] | None:
    """``(host, port, the command that starts a head there)`` for ``address``; None for ``local`` (a new cluster)
    or an ``auto`` that Ray resolves itself."""
    if address == "local":
        return None
    if address == "auto":
        return _auto_target(source)
    text, default, flag = address, _GCS_PORT, "--port"
    if text.startswith("ray://"):
        text, default, flag = text[len("ray://") :], _CLIENT_PORT, "--ray-client-server-port"
    text = text.split("/", 1)[0]
    host, sep, port = text.rpartition(":")
    if not sep or "]" in port:  # no port (an IPv6 literal in brackets keeps its colons)
        host, port = text, str(default)
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise ClusterError(
            f"Cannot join the Ray cluster at {address!r}{source}: expected host:port, ray://host:port, auto or "
            "local."
        )
    start = "ray start --head" if int(port) == default else f"ray start --head {flag}={port}"
    return host, int(port), start


def _auto_target(source: str) -> tuple[str, int, str] | None:
    """The address ``auto`` stands for: the last cluster ``ray start`` started on this machine."""
    try:
        from ray._private.services import canonicalize_bootstrap_address
    except ImportError:  # another Ray layout: ray.init resolves "auto" itself (its ConnectionError is caught)
        return None
    try:
        resolved = canonicalize_bootstrap_address("auto")
    except ConnectionError as err:  # Ray's text names its own --address flag: say it in rumteb's words
        logger.debug("ray: %s", err)
        raise ClusterError(
            _message("auto", source, "no running cluster on this machine", "ray start --head")
        ) from err
    if not resolved:
        return None
    host, _, port = resolved.rpartition(":")
    return host.strip("[]"), int(port), "ray start --head"


def _probe(address: str, source: str, host: str, port: int, start: str) -> None:
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT):
            pass
    except OSError as err:
        reason = "no answer" if isinstance(err, TimeoutError) else (err.strerror or type(err).__name__)
        raise ClusterError(_message(address, source, f"{host}:{port}: {reason}", start)) from err
    logger.debug("The Ray cluster at %s (%s:%d) answers", address, host, port)


def _message(address: str, source: str, reason: str, start: str) -> str:
    return (
        f'Cannot reach the Ray cluster at {address!r}{source} ({reason}). Start one there with "{start}" on '
        "that machine, or fix the address (--ray-address, ray_address=, or RAY_ADDRESS); without one, rumteb "
        "starts a local cluster."
    )
