"""Prompts: mteb's key format and priority, and the prompts of the models rumteb registers.

A prompt dict maps mteb keys to prefixes: a task name (``"TERRa"``), a task type (``"STS"``), a prompt type
(``"query"``/``"document"``), or ``"{task name or type}-{prompt type}"``. For one encode call the first key that
exists wins, in mteb's order: task name + prompt type, task name, task type + prompt type, task type, prompt type.

Example:
    >>> import rumteb
    >>> task = rumteb.get_task("TERRa")
    >>> resolve_prompt({"PairClassification": "classification: "}, task.metadata, None)
    'classification: '
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from rumteb.errors import ParameterError

if TYPE_CHECKING:
    from mteb.abstasks.task_metadata import TaskMetadata
    from mteb.types import PromptType

__all__ = ["resolve_prompt", "rosberta_prompts", "validate_prompts"]


def resolve_prompt(
    prompts: Mapping[str, str] | None, task_metadata: TaskMetadata, prompt_type: PromptType | None
) -> str | None:
    """The prompt for one encode call, or ``None`` when no key applies (mteb's own resolution function)."""
    from mteb.models.abs_encoder import get_prompt_name

    if not prompts:
        return None
    name = get_prompt_name(dict(prompts), task_metadata, prompt_type)
    return None if name is None else prompts[name]


def validate_prompts(prompts: Mapping[str, str] | None, owner: str = "Encoder") -> dict[str, str]:
    """Check every key against mteb's key format (task names, task types, prompt types, compounds).

    Raises:
        ValueError: A key names no known task, task type or prompt type, or a value is not a string.
    """
    if not prompts:
        return {}
    if not isinstance(prompts, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in prompts.items()
    ):
        raise ParameterError(
            f"The 'prompts' parameter of {owner} must be a dict of strings in mteb's key format. "
            f"Got {prompts!r} instead."
        )
    import warnings

    from mteb.models.abs_encoder import AbsEncoder

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the invalid keys are reported in the error below
        resolved, invalid = AbsEncoder.validate_task_to_prompt_name(
            dict(prompts), raise_for_invalid_keys=False
        )
    if invalid:
        raise ParameterError(f"Invalid keys in the 'prompts' parameter of {owner}:\n" + "\n".join(invalid))
    return dict(resolved or {})


def folder_prompts(prompts: Mapping[str, str] | None, owner: str = "Encoder") -> dict[str, str]:
    """The prompts a sentence-transformers folder saved, keeping the keys mteb understands.

    A saved model's prompts also hold sentence-transformers prompt names (``search_query``, ``classification``:
    `rumteb train` saves both kinds) that name no task, task type or prompt type; they are dropped (logged), as
    mteb's sentence-transformers wrapper drops them, so both encoders prefix the same texts.
    """
    if not prompts:
        return {}
    import warnings

    from mteb.models.abs_encoder import AbsEncoder

    valid = {k: v for k, v in prompts.items() if isinstance(k, str) and isinstance(v, str)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resolved, _ = AbsEncoder.validate_task_to_prompt_name(dict(valid), raise_for_invalid_keys=False)
    kept = dict(resolved or {})
    dropped = sorted(set(valid) - set(kept))
    if dropped:
        logging.getLogger(__name__).info(
            "%s: the model's prompt names %s are not mteb keys; mteb does not use them",
            owner,
            ", ".join(dropped),
        )
    return kept


def rosberta_prompts() -> dict[str, str]:
    """ru-en-RoSBERTa's prompts: mteb's own dict, so that scores stay comparable with the leaderboard."""
    import mteb

    meta = mteb.get_model_meta("ai-forever/ru-en-RoSBERTa")
    return dict(meta.loader_kwargs["model_prompts"])


def read_prompts(path: Path) -> dict[str, str]:
    """A ``--prompts`` file: a JSON object in mteb's key format (task name, task type, ``query``/``document``,
    ``TaskName-query``...) mapping to prompt strings.

    Raises:
        ValueError: The file is not such an object.
    """
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ParameterError(f"Cannot read the prompts file {str(path)!r}: {err}") from err
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ParameterError(
            f"The prompts file {str(path)!r} must hold a JSON object of strings, e.g. "
            '{"query": "search_query: ", "document": "search_document: "}.'
        )
    return raw
