"""New results come from mteb > 2.0.0 with ``run_settings.jsonl``: the versions a results folder records.

The results repository keeps folders written by older mteb versions as history, but takes new results only from
mteb > 2.0.0 with ``model_meta.json`` and ``run_settings.jsonl`` (what mteb 2, and so ``rumteb run``, writes).

Example:
    >>> parse_version("2.26.24") > NEWEST_OLD_MTEB
    True
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from rumteb.reporting.findings import Problem, rerun_command
from rumteb.reporting.result_file import ResultsError

#: The newest mteb version whose results the results repository no longer takes as new.
NEWEST_OLD_MTEB = (2, 0, 0)


def is_modern(folder: Path) -> bool:
    """Whether mteb 2 or later wrote the folder (a ``run_settings.jsonl`` or a result file of mteb >= 2.0.0)."""
    if (folder / "run_settings.jsonl").is_file():
        return True
    versions = (mteb_version(p)[1] for p in folder.glob("*.json") if p.name != "model_meta.json")
    return any(v is not None and v >= NEWEST_OLD_MTEB for v in versions)


def check_run_settings(folder: Path, files: Sequence[Path], model: str) -> list[Problem]:
    """Every (task, split, subset) of the result files has a ``run_settings.jsonl`` entry naming mteb > 2.0.0."""
    path = folder / "run_settings.jsonl"
    rerun = f"re-run with rumteb run (mteb writes it): {rerun_command(model, [f.stem for f in files])}"
    if not path.is_file():
        return [Problem("error", folder, "no run_settings.jsonl.", rerun + " --overwrite-strategy always.")]
    covered: dict[tuple[str, str, str], tuple[int, int, int] | None] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as err:
            return [Problem("error", path, f"line {number} is not JSON ({err}).", rerun + ".")]
        if not isinstance(entry, dict):
            return [Problem("error", path, f"line {number} is not a JSON object.", rerun + ".")]
        splits = entry.get("splits", [entry.get("split")])
        subsets = entry.get("subsets", [entry.get("subset")])
        version = entry.get("version")
        found = parse_version(version.get("mteb") if isinstance(version, dict) else None)
        for split in splits if isinstance(splits, list) else []:
            for subset in subsets if isinstance(subsets, list) else []:
                covered[(str(entry.get("task")), str(split), str(subset))] = found
    lacking = []
    for file in files:
        for split, subset in _keys_in_file(file):
            version = covered.get((file.stem, split, subset))
            if version is None or version <= NEWEST_OLD_MTEB:
                lacking.append(f"{file.stem} {split}/{subset}")
    if not lacking:
        return []
    shown = ", ".join(lacking[:5]) + (f" and {len(lacking) - 5} more" if len(lacking) > 5 else "")
    return [
        Problem(
            "error",
            path,
            f"no entry with an mteb version > 2.0.0 for {shown}.",
            rerun + " --overwrite-strategy always.",
        )
    ]


def _keys_in_file(path: Path) -> list[tuple[str, str]]:
    from rumteb.reporting import result_file

    try:
        return sorted(result_file.read_task_result(path).scores)
    except ResultsError:
        return []  # reported where the file is read


def mteb_version(path: Path) -> tuple[bool, tuple[int, int, int] | None]:
    """Whether the file is a JSON object (else it is reported where it is read), and its mteb version."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False, None
    if not isinstance(data, dict):
        return False, None
    return True, parse_version(data.get("mteb_version"))


def parse_version(value: object) -> tuple[int, int, int] | None:
    """``"2.26.24"`` -> ``(2, 26, 24)``; None for anything that names no version.

    Example:
        >>> parse_version("1.38")
        (1, 38, 0)
    """
    if not isinstance(value, str):
        return None
    numbers = re.findall(r"\d+", value)[:3]
    if not numbers:
        return None
    parts = [int(n) for n in numbers] + [0] * (3 - len(numbers))
    return parts[0], parts[1], parts[2]
