"""``rumteb run``: load a model, evaluate it task by task through mteb, store results in mteb's layout."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ENCODERS = ("auto", "sentence-transformers", "rumteb")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack")


def parse_device(value: str | None) -> str | None:
    """Normalise ``--device``: ``cpu``, ``cuda``, ``cuda:N``, or mteb's integer GPU index ``N`` (= ``cuda:N``).

    Raises:
        ValueError: Any other value.
    """
    if value is None:
        return None
    from rumteb._devices import normalize_device

    return normalize_device(value, "The '--device' option")


def weights_fingerprint(folder: Path) -> str:
    """A 40-hex content hash of a model folder's weight files (names and bytes), used as its revision."""
    digest = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in _WEIGHT_SUFFIXES)
    if not files:
        raise ValueError(f"The model folder {str(folder)!r} has no weight files (*.safetensors or *.bin).")
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:40]


def read_prompts(path: Path) -> dict[str, str]:
    """A ``--prompts`` file: a JSON object in mteb's key format (task name, task type, ``query``/``document``,
    ``TaskName-query``...) mapping to prompt strings.

    Raises:
        ValueError: The file is not such an object.
    """
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"Cannot read the prompts file {str(path)!r}: {err}") from err
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ValueError(
            f"The prompts file {str(path)!r} must hold a JSON object of strings, e.g. "
            '{"query": "search_query: ", "document": "search_document: "}.'
        )
    return raw


def load_model(
    spec: str,
    *,
    device: str | None = None,
    encoder: str = "auto",
    prompts: dict[str, str] | None = None,
    no_prompts: bool = False,
    revision: str | None = None,
) -> Any:
    """An mteb encoder for ``spec``: a local model folder, a name in mteb's (or rumteb's) registry, or a Hub id.

    A local folder is named ``local/<folder name>`` with a content hash of its weights as revision, so its results
    never land under mteb's ``no_model_name_available``.

    Raises:
        FileNotFoundError: ``spec`` looks like a path but does not exist.
        ValueError: Unknown encoder, or a folder without weights.
    """
    if encoder not in ENCODERS:
        raise ValueError(
            f"The '--encoder' option must be one of {', '.join(ENCODERS)}. Got {encoder!r} instead."
        )
    if encoder == "rumteb":
        raise ValueError(
            "The 'rumteb' encoder is not part of this version of rumteb yet. Use --encoder sentence-transformers "
            "(or auto, which picks it)."
        )
    path = Path(spec).expanduser()
    if path.exists():
        model = _load_local(path, device)
    elif spec.startswith((".", "/", "~")) or spec.count("/") > 1 or "\\" in spec:
        raise FileNotFoundError(
            f"The model folder {spec!r} does not exist. Pass an existing folder or a Hub id."
        )
    else:
        import mteb

        model = mteb.get_model(spec, revision, device=device)
    _set_prompts(model, prompts, no_prompts)
    return model


def _load_local(path: Path, device: str | None) -> Any:
    from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper
    from sentence_transformers import SentenceTransformer

    if not path.is_dir():
        raise ValueError(f"The model path {str(path)!r} is a file; pass the model's folder.")
    revision = weights_fingerprint(path)
    st_model = SentenceTransformer(str(path), device=device, local_files_only=True)
    wrapper = SentenceTransformerEncoderWrapper(st_model)
    name = f"local/{path.resolve().name}"
    wrapper.mteb_model_meta = wrapper.mteb_model_meta.model_copy(update={"name": name, "revision": revision})
    return wrapper


def _set_prompts(model: Any, prompts: dict[str, str] | None, no_prompts: bool) -> None:
    if not (no_prompts or prompts):
        return
    if not hasattr(model, "model_prompts"):
        raise ValueError(
            f"Cannot set prompts on {type(model).__name__}: it does not take mteb-style prompts. Drop --prompts "
            "and --no-prompts for this model."
        )
    if no_prompts:
        model.model_prompts = {}
        if hasattr(model, "model") and hasattr(model.model, "prompts"):
            model.model.prompts = {}
        return
    from mteb.models.abs_encoder import AbsEncoder

    resolved, invalid = AbsEncoder.validate_task_to_prompt_name(prompts, raise_for_invalid_keys=False)
    if invalid:
        raise ValueError("Invalid keys in the prompts file:\n" + "\n".join(invalid))
    model.model_prompts = resolved


@dataclass(frozen=True)
class TaskOutcome:
    """One finished task: its name, main score (mean over splits and subsets) and wall time."""

    task: str
    main_score_name: str
    score: float
    seconds: float


def run_tasks(
    model: Any,
    tasks: Sequence[Any],
    *,
    output_folder: Path,
    overwrite_strategy: str = "only-missing",
    batch_size: int = 32,
    prediction_folder: Path | None = None,
    on_task_done: Callable[[TaskOutcome], None] | None = None,
) -> list[TaskOutcome]:
    """Evaluate ``tasks`` one at a time through ``mteb.evaluate`` with ``mteb.ResultCache(output_folder)``.

    Each task's result is written as soon as it finishes, so an interrupted run keeps the tasks done so far.
    """
    import mteb

    if batch_size < 1:
        raise ValueError(
            f"The 'batch_size' parameter of run_tasks must be a positive int. Got {batch_size!r} instead."
        )
    cache = mteb.ResultCache(output_folder)
    outcomes = []
    for task in tasks:
        start = time.perf_counter()
        result = mteb.evaluate(
            model,
            [task],
            cache=cache,
            overwrite_strategy=overwrite_strategy,
            encode_kwargs={"batch_size": batch_size},
            prediction_folder=prediction_folder,
            show_progress_bar=False,
        )
        (task_result,) = result.task_results
        outcome = TaskOutcome(
            task=task.metadata.name,
            main_score_name=task.metadata.main_score,
            score=float(task_result.get_score()),
            seconds=time.perf_counter() - start,
        )
        outcomes.append(outcome)
        if on_task_done is not None:
            on_task_done(outcome)
    return outcomes
