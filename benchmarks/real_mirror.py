"""Build an offline mirror (Hub repository layout) of the ruMTEB splits whose exact data lies in ../shared/data.

    python benchmarks/real_mirror.py OUT_DIR [--shared ../shared/data]

Writes OUT_DIR/<org>/<name>/ for TERRa (dev), RUParaPhraserSTS (test, with the Hub's original columns so the task's
transform runs) and CEDRClassification (train, test). These are re-encoded copies, not the Hub's own files, so no
rumteb manifest is written: loading them logs that their revision is unverified, which is the truth.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import datasets

REPO_ROOT = Path(__file__).resolve().parents[1]
TASKS = ("TERRa", "RUParaPhraserSTS", "CEDRClassification")


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSON Lines file."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_configs(
    folder: Path,
    configs: dict[str, dict[str, datasets.Dataset | list[dict[str, Any]]]],
    note: str = "Rebuilt from ../shared/data by benchmarks/real_mirror.py.",
) -> None:
    """A Hub-layout dataset folder: one parquet file per (config, split), named in the README's YAML ``configs``."""
    lines = ["---", "configs:"]
    for config, splits in configs.items():
        lines += [f"- config_name: {config}", "  data_files:"]
        for split, data in splits.items():
            rel = f"{config}/{split}-00000-of-00001.parquet"
            (folder / config).mkdir(parents=True, exist_ok=True)
            dataset = data if isinstance(data, datasets.Dataset) else datasets.Dataset.from_list(data)
            dataset.to_parquet(str(folder / rel))
            lines += [f"  - split: {split}", f"    path: {rel}"]
    lines += ["---", "", note, ""]
    (folder / "README.md").write_text("\n".join(lines), encoding="utf-8")


def build(out: Path, shared: Path) -> list[str]:
    """Write the mirror; returns the names of the tasks it serves."""
    import rumteb

    src = shared / "rumteb"
    terra = [
        {"sentence1": r["sentence1"], "sentence2": r["sentence2"], "labels": int(r["label"])}
        for r in read_rows(src / "TERRa" / "dev.jsonl")
    ]
    para = [
        {"id": r["id"], "text_1": r["sentence1"], "text_2": r["sentence2"], "class": int(r["score"])}
        for r in read_rows(src / "RUParaPhraserSTS" / "test.jsonl")
    ]
    cedr = {
        split: [
            {"text": r["text"], "label": list(r["label"])}
            for r in read_rows(src / "CEDRClassification" / f"{split}.jsonl")
        ]
        for split in ("train", "test")
    }
    cedr_features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.Sequence(datasets.Value("int64"))}
    )
    payload = {
        "TERRa": {"dev": datasets.Dataset.from_list(terra)},
        "RUParaPhraserSTS": {"test": datasets.Dataset.from_list(para)},
        "CEDRClassification": {
            s: datasets.Dataset.from_list(rows, features=cedr_features) for s, rows in cedr.items()
        },
    }
    for name, splits in payload.items():
        path = rumteb.get_task(name).metadata.dataset["path"]
        write_configs(out.joinpath(*path.split("/")), {"default": splits})
    return list(payload)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    tasks = build(args.out, args.shared)
    print(f"Mirror of {', '.join(tasks)} written to {args.out}")


if __name__ == "__main__":
    main()
