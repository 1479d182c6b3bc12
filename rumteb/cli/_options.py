"""Which command-line option sets which library parameter: library errors name the parameter (``max_memory``),
`rumteb.cli.main` shows them under the option (``--max-memory``).

One table for every command: a parameter name means the same thing wherever the library uses it. ``rumteb run``
also reads the fields of its settings objects (`rumteb.models.EncoderSettings`, `rumteb.models.EndpointSettings`)
through it (`given_settings`), so that an option and its field cannot drift apart.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

#: library parameter -> command-line option
OPTIONS: dict[str, str] = {
    "model": "--model",
    "device": "--device",
    "precision": "--precision",
    "max_tokens_per_batch": "--max-tokens-per-batch",
    "pooling": "--pooling",
    "cache_dir": "--cache-dir",
    "max_memory": "--max-memory",
    "engine": "--engine",
    "ray_address": "--ray-address",
    "trust_remote_code": "--trust-remote-code",
    "allow_pickle": "--allow-pickle",
    "encoder": "--encoder",
    "url": "--endpoint",
    "api_key_env": "--api-key-env",
    "max_concurrency": "--max-concurrency",
    "max_tokens_per_request": "--max-tokens-per-request",
    "revision": "--model-revision",
    "prompts": "--prompts",
    "batch_size": "--batch-size",
    "evaluator_threads": "--evaluator-threads",
    "against": "--against",
}


def given_settings(args: argparse.Namespace, settings: type[Any]) -> dict[str, Any]:
    """The fields of the settings dataclass ``settings`` that the command line gave, by field name: each field
    with an option in `OPTIONS` whose value is neither None nor the field's default.

    Example:
        >>> from rumteb.models import EncoderSettings
        >>> given_settings(argparse.Namespace(device="cpu", precision="auto"), EncoderSettings)
        {'device': 'cpu'}
    """
    given = {}
    for field in dataclasses.fields(settings):
        option = OPTIONS.get(field.name)
        value = None if option is None else getattr(args, option.lstrip("-").replace("-", "_"), None)
        if value is not None and value != field.default:
            given[field.name] = value
    return given
