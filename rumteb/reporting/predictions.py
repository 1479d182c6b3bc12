"""Read the prediction folders of ``rumteb run --prediction-folder DIR`` (one per model) for ``rumteb compare``.

mteb writes one ``<Task>_predictions.json`` per task straight into the folder; `read_prediction_folder` finds the
files of ruMTEB tasks and the model's name recorded in them. `CompareError`, raised here for a missing or empty
folder or an unreadable file, is also what `rumteb.reporting.compare` raises for outputs that do not fit the data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rumteb.errors import RumtebError

_SUFFIX = "_predictions.json"


class CompareError(RumtebError, ValueError):
    """A prediction folder or file that cannot be compared. The message names the path."""


# --- reading prediction folders -----------------------------------------------------------------------------


def read_prediction_folder(folder: str | Path) -> tuple[str, dict[str, Path]]:
    """The model name and the ``<Task>_predictions.json`` files of ruMTEB tasks in one prediction folder.

    Args:
        folder: A folder written by ``rumteb run --prediction-folder`` for one model.

    Returns:
        ``(model, {task name: file})``; the model is ``name@revision[:10]`` from the first file, or the folder
        name when the files do not record it.

    Raises:
        CompareError: The folder does not exist or holds no prediction file of a ruMTEB task.

    Example:
        >>> model, files = read_prediction_folder("preds/e5-small")
        >>> model, sorted(files)[:2]
        ('intfloat/multilingual-e5-small@fd1525a9fd', ['CEDRClassification', 'GeoreviewClassification'])
    """
    from rumteb.tasks import TASKS_BY_NAME

    path = Path(folder).expanduser()
    if not path.is_dir():
        raise CompareError(
            f"The prediction folder {str(path)!r} does not exist. Make one with "
            "'rumteb run ... --prediction-folder DIR' (one folder per model)."
        )
    files = {
        p.name[: -len(_SUFFIX)]: p
        for p in sorted(path.glob(f"*{_SUFFIX}"))
        if p.name[: -len(_SUFFIX)] in TASKS_BY_NAME
    }
    if not files:
        raise CompareError(
            f"No ruMTEB prediction files (<Task>{_SUFFIX}) in {path}. Run the model with "
            "'rumteb run ... --prediction-folder DIR --overwrite-strategy always' (stored results are reused "
            "without writing predictions)."
        )
    model = path.name
    meta = _read_file(next(iter(files.values()))).get("mteb_model_meta")
    if isinstance(meta, dict) and isinstance(meta.get("model_name"), str):
        revision = meta.get("revision")
        model = meta["model_name"] + (f"@{revision[:10]}" if isinstance(revision, str) else "")
    return model, files


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CompareError(f"Cannot read the prediction file {path}: {err}") from err
    if not isinstance(data, dict):
        raise CompareError(f"Cannot read the prediction file {path}: it must hold a JSON object.")
    return data
