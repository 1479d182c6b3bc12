"""Device names accepted by rumteb: cpu, cuda, cuda:N, mps, or mteb's integer GPU index N (= cuda:N), the
``--device`` option's comma-separated lists of them, and the devices the encoder's ``device`` parameter names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rumteb.errors import DeviceError, ParameterError


def normalize_device(value: object, owner: str = "Encoder") -> str:
    """``value`` as a torch device string.

    Args:
        value: The user's device (``"cpu"``, ``"CUDA:1"``, ``"0"``...).
        owner: Whose ``device`` parameter it is, for the error (``"Encoder"``).

    Raises:
        ParameterError: Any other value.

    Example:
        >>> normalize_device("0")
        'cuda:0'
    """
    text = str(value).strip().lower()
    if text.isdigit():
        return f"cuda:{text}"
    if text in ("cpu", "cuda", "mps") or re.fullmatch(r"cuda:\d+", text):
        return text
    raise ParameterError.invalid(owner, "device", "cpu, cuda, cuda:N, mps or a GPU index N", value)


def parse_device(value: str | None) -> str | list[str] | None:
    """Normalise ``--device``: ``cpu``, ``cuda``, ``cuda:N``, mteb's integer GPU index ``N`` (= ``cuda:N``), or a
    comma-separated list of these (one worker process per entry; rumteb's encoder only).

    Raises:
        ValueError: Any other value.
    """
    if value is None:
        return None
    parts = [part for part in str(value).split(",") if part.strip()]
    if len(parts) > 1:
        return [normalize_device(part) for part in parts]
    return normalize_device(value)


def parse_devices(device: str | Sequence[str] | None, engine: str = "local") -> list[str]:
    """The devices to encode on. With the Ray engine GPUs are the cluster's, not this machine's: ``None`` and
    ``"cuda"`` stay ``["cuda"]`` (one actor per cluster GPU) instead of this machine's visible GPUs.

    Raises:
        ParameterError: A device name that is none of cpu, cuda, cuda:N, mps, N; an empty list.
        DeviceError: With the local engine, a CUDA device this machine does not have (a CPU build of torch, no
            GPU, ``cuda:N`` beyond the GPUs visible).
    """
    import torch

    local = engine == "local"
    if device is None:
        device = "cuda" if not local or torch.cuda.is_available() else "cpu"
    if isinstance(device, str | int):
        name = normalize_device(str(device))
        if local:
            _check_present([name], torch)
        count = torch.cuda.device_count() if local and name == "cuda" else 0
        # "cuda": every visible GPU, one worker process each (one GPU: no worker process)
        return [f"cuda:{i}" for i in range(count)] if count > 1 else [name]
    devices = [normalize_device(d) for d in device]
    if not devices:
        raise ParameterError.invalid("Encoder", "device", "at least one device", [])
    if local:
        _check_present(devices, torch)
    return devices


def _check_present(devices: Sequence[str], torch: Any) -> None:
    """Refuse a CUDA device this machine lacks here, with the fix, rather than deep inside torch."""
    wanted = [d for d in devices if d.startswith("cuda")]
    if not wanted:
        return
    if not torch.cuda.is_available():
        build = f"torch {torch.__version__}"
        why = (
            f"{build} is a CPU-only build (no CUDA compiled in)"
            if torch.version.cuda is None
            else f"{build} (CUDA {torch.version.cuda}) finds no GPU on this machine"
        )
        raise DeviceError(
            f"The device {', '.join(dict.fromkeys(wanted))!r} is not available: {why}. Pass --device cpu "
            "(device='cpu'), or install a CUDA build of torch on a machine with a GPU."
        )
    count = torch.cuda.device_count()
    missing = [d for d in wanted if d != "cuda" and int(d.split(":")[1]) >= count]
    if missing:
        visible = ", ".join(f"cuda:{i}" for i in range(count))
        raise DeviceError(
            f"The device {', '.join(dict.fromkeys(missing))!r} is not available: this machine has {count} "
            f"visible GPU(s) ({visible}). Pass one of them, 'cuda' for all, or --device cpu (device='cpu')."
        )
