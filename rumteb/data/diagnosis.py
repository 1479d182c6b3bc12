"""Reading a mirror safely: the card's YAML parsed before ``datasets`` sees it, any failure of the load turned into
one `rumteb.data.MirrorReadError` naming the file, and the loaded dataset checked for every split the task needs.

``datasets`` ignores a card whose YAML does not parse and infers a layout from file names (``dev.jsonl`` becomes a
``validation`` split); it reports a truncated file as ``DatasetGenerationError`` without naming it. Both are caught
here, at the task-loading boundary (`reading`, used by the tasks' ``load_data``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rumteb.data.errors import MirrorReadError, cannot_read
from rumteb.data.manifest import _data_files

CARD = "README.md"
_YAML_BLOCK = re.compile(r"^(\s*---[\r\n]+)([\S\s]*?)([\r\n]+---(\r\n|\n|$))")
_READABLE = (".parquet", ".jsonl", ".json", ".csv", ".tsv", ".arrow")


# --- the card ------------------------------------------------------------------------------------------------------


def card_configs(folder: Path, task: str, root: Path) -> list[dict[str, Any]]:
    """The ``configs:`` of the folder's README.md card ([] without a card or a YAML header).

    Raises:
        MirrorReadError: The card is not UTF-8, its YAML header is not closed or does not parse, or ``configs`` is
            not a list of mappings with a ``config_name``.
    """
    readme = folder / CARD
    if not readme.exists():
        return []

    def fail(cause: object) -> MirrorReadError:
        return MirrorReadError(cannot_read(task, CARD, folder, cause, root))

    try:
        text = readme.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise fail(f"not UTF-8: {err}") from err
    except OSError as err:
        raise fail(err) from err
    if not text.lstrip().startswith("---"):
        return []
    match = _YAML_BLOCK.match(text)
    if match is None:
        raise fail("its YAML header opened by '---' is never closed")
    import yaml

    try:
        header = yaml.safe_load(match.group(2))
    except yaml.YAMLError as err:
        raise fail(f"its YAML header does not parse: {err}") from err
    if header is None:
        return []
    if not isinstance(header, dict):
        raise fail(f"its YAML header is a {type(header).__name__}, not a mapping")
    configs = header.get("configs", [])
    if not isinstance(configs, list) or not all(
        isinstance(c, dict) and isinstance(c.get("config_name"), str) for c in configs
    ):
        raise fail("its YAML 'configs' must be a list of mappings, each with a 'config_name'")
    for config in configs:
        files = config.get("data_files", [])
        items = [files] if isinstance(files, str | dict) else files
        if not isinstance(items, list) or not all(_data_files_item(i) for i in items):
            raise fail(
                f"the data_files of config {config['config_name']!r} must be paths or mappings with exactly "
                f"'split' and 'path'; got {files!r}"
            )
    return configs


def _data_files_item(item: Any) -> bool:
    """As ``datasets`` accepts it: a path, or ``{split: ..., path: path or [paths]}``."""
    if isinstance(item, str):
        return True
    if not isinstance(item, dict) or set(item) != {"split", "path"} or not isinstance(item["split"], str):
        return False
    paths = item["path"]
    return isinstance(paths, str) or (isinstance(paths, list) and all(isinstance(x, str) for x in paths))


def check_card(folder: Path, task: str, root: Path, subsets: Collection[str] | None) -> None:
    """Parse the card and check that every data file its configs name exists.

    Args:
        subsets: Check only configs named ``<subset>`` or ``<subset>-...`` (per-language repositories such as
            MIRACL, of which a mirror holds the Russian configs only); None checks every config.

    Raises:
        MirrorReadError: See `card_configs`; or a data file named by a config is missing.
    """
    for config in card_configs(folder, task, root):
        name = config["config_name"]
        if subsets is not None and name.split("-")[0] not in subsets:
            continue
        for pattern in _patterns(config.get("data_files", [])):
            if not any(folder.glob(pattern)):
                cause = f"missing; {CARD}'s config {name!r} names it"
                raise MirrorReadError(cannot_read(task, pattern, folder, cause, root))


def _patterns(data_files: Any) -> Iterator[str]:
    items = [data_files] if isinstance(data_files, str | dict) else data_files
    for item in items if isinstance(items, list) else []:
        paths = item.get("path", []) if isinstance(item, dict) else item
        for path in [paths] if isinstance(paths, str) else paths if isinstance(paths, list) else []:
            if isinstance(path, str) and path and not path.startswith(("/", "hf://")) and ".." not in path:
                yield path


# --- the load itself -----------------------------------------------------------------------------------------------


@contextmanager
def reading(task: Any, folder: Path, root: Path) -> Iterator[None]:
    """Check the card, run the load inside, then check the loaded splits. Any failure of the load (``datasets``,
    pyarrow, mteb's transform) becomes one `MirrorReadError` naming the file, with the original as its cause.

    Raises:
        MirrorReadError: The card, a data file or the loaded layout is wrong.
    """
    name = task.metadata.name
    multilingual = task.metadata.is_multilingual and not getattr(task, "fast_loading", False)
    check_card(folder, name, root, set(task.hf_subsets) if multilingual else None)
    try:
        yield
    except MirrorReadError:
        raise
    except MemoryError:
        raise
    except Exception as err:
        raise diagnose(task, folder, root, err) from err
    try:
        # e.g. a flipped byte left invalid UTF-8 in a string column: it would fail mid-evaluation otherwise
        _validate_loaded(getattr(task, "dataset", None))
    except Exception as err:
        raise diagnose(task, folder, root, err) from err
    check_splits(task, folder, root)


def _validate_loaded(data: Any, depth: int = 0) -> None:
    """Full Arrow validation (UTF-8 of strings, offsets) of every table loaded for the task: a damaged Parquet
    value that ``datasets`` passed through would otherwise fail mid-evaluation, far from the file."""
    import datasets

    if isinstance(data, datasets.Dataset):
        data.data.table.validate(full=True)
    elif isinstance(data, dict) and depth < 4:
        for value in data.values():
            _validate_loaded(value, depth + 1)


def diagnose(task: Any, folder: Path, root: Path, err: BaseException) -> MirrorReadError:
    """The error to show for a failed load: the first data file that does not read on its own, else a file the
    error names, else a split the task needs that is missing, else the card and the data files together."""
    name = task.metadata.name
    files = _data_files(folder)
    for rel in files:
        problem = _read_problem(folder / rel)
        if problem is not None:
            return MirrorReadError(cannot_read(name, rel, folder, problem, root))
    cause = _root_cause(err)
    if "YAML" in cause or CARD in cause:  # datasets quotes the card's content, data file names included
        return MirrorReadError(cannot_read(name, CARD, folder, cause, root))
    for rel in files:
        if str(folder / rel) in cause or f"'{rel}'" in cause:
            return MirrorReadError(cannot_read(name, rel, folder, cause, root))
    if isinstance(getattr(task, "dataset", None), dict):
        missing = _missing_splits(task)
        if missing:
            return MirrorReadError(cannot_read(name, CARD, folder, missing, root))
    blamed = [CARD, *(f for f in files if f != CARD)]
    return MirrorReadError(cannot_read(name, blamed, folder, cause, root))


def _root_cause(err: BaseException) -> str:
    """The most telling message of an exception chain: ``datasets``' "An error occurred while generating the
    dataset" wrapper is skipped for what it wraps."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = " ".join(str(current).split())
        if text and not text.startswith("An error occurred while generating"):
            return f"{type(current).__name__}: {text}"
        current = current.__cause__ or current.__context__
    return f"{type(err).__name__}: {err}"


def _read_problem(path: Path) -> str | None:
    """Why one data file does not read in full (None when it does, or is of a kind not checked here)."""
    suffix = path.suffix.lower()
    if suffix not in _READABLE:
        return None
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            pq.read_table(path).validate(full=True)
        elif suffix == ".jsonl":
            return _jsonl_problem(path)
        elif suffix == ".json":
            try:
                json.loads(path.read_bytes().decode("utf-8"))
            except json.JSONDecodeError:  # datasets also reads JSON Lines saved as .json
                return _jsonl_problem(path)
        elif suffix in (".csv", ".tsv"):
            import pyarrow.csv as pcsv

            options = pcsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ",")
            pcsv.read_csv(path, parse_options=options).validate(full=True)
        elif suffix == ".arrow":
            import pyarrow as pa

            with pa.memory_map(str(path)) as source:
                pa.ipc.open_stream(source).read_all().validate(full=True)
    except Exception as err:  # any reader failure is the answer to "why does it not read"
        return f"{type(err).__name__}: {' '.join(str(err).split())}"
    return None


def _jsonl_problem(path: Path) -> str | None:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                return f"line {number}: {err}"
            if not isinstance(row, dict):
                return f"line {number}: a JSON {type(row).__name__}, not an object"
    if path.stat().st_size == 0:
        return "the file is empty"
    return None


def _needed_splits(task: Any) -> list[str]:
    splits = list(task.eval_splits)
    train = getattr(task, "train_split", None)
    if isinstance(train, str) and train not in splits:
        splits.append(train)
    return splits


def _missing_splits(task: Any) -> str | None:
    """What the loaded ``task.dataset`` lacks, in words (None when nothing), looked up as mteb's evaluation does."""
    dataset = task.dataset
    for subset in task.hf_subsets or ["default"]:
        if subset in dataset:
            container = dataset[subset]
        elif subset == "default":
            container = dataset
        else:
            return f"subset {subset!r} is missing after loading (found: {', '.join(map(str, dataset)) or 'none'})"
        for split in _needed_splits(task):
            if split not in container:
                found = ", ".join(map(str, container)) or "none"
                return f"split {split!r} of subset {subset!r} is missing after loading (found: {found})"
    return None


def check_splits(task: Any, folder: Path, root: Path) -> None:
    """Refuse a loaded dataset without a split or subset the task evaluates (or trains its classifier) on.

    Raises:
        MirrorReadError: Naming the card, which decides the layout (or its absence, when the layout was inferred).
    """
    missing = _missing_splits(task)
    if missing is None:
        return
    if not (folder / CARD).exists():
        present = ", ".join(f for f in _data_files(folder)) or "none"
        missing += f"; there is no {CARD}, so datasets inferred the layout from the file names ({present})"
    raise MirrorReadError(cannot_read(task.metadata.name, CARD, folder, missing, root))
