"""Which command-line option sets which library parameter: library errors name the parameter (``max_memory``),
`rumteb.cli.main` shows them under the option (``--max-memory``).

One table for every command: a parameter name means the same thing wherever the library uses it.
"""

from __future__ import annotations

#: library parameter -> command-line option
OPTIONS: dict[str, str] = {
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
    "batch_size": "--batch-size",
    "evaluator_threads": "--evaluator-threads",
}
