"""Cost of the sha256 check of a mirror with a manifest, on the largest file of ../shared/data.

    python benchmarks/mirror_hashing.py [--shared ../shared/data] [--repeats 5]

Copies the file into a one-dataset mirror with a manifest (in a temporary folder), then times, best of the repeats:
(a) sha256 of the file alone; (b) the load-time check when the file changed since it was last verified (hashed);
(c) the same check on an unchanged file (stat only: the recorded (size, mtime, ctime, inode) still match). Prints
the CPU (lscpu's model name), the file, MB/s and the ratios (b)/(a) and (b)/(c).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def cpu_name() -> str:
    """lscpu's model name and CPU count (``unknown`` without lscpu)."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return f"{fields.get('Model name', '?').strip()}, {fields.get('CPU(s)', '?').strip()} CPUs"


def best(call, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import datasets

    from rumteb import data
    from rumteb.data import stamps
    from rumteb.data.manifest import _sha256

    largest = max((p for p in args.shared.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    with tempfile.TemporaryDirectory(prefix="rumteb-hash-") as tmp:
        datasets.config.HF_DATASETS_CACHE = Path(tmp) / "cache"  # the verification record goes here
        folder = Path(tmp) / "mirror" / "org" / "name"
        folder.mkdir(parents=True)
        shutil.copyfile(largest, folder / largest.name)
        manifest = data.write_manifest(folder, "org/name", "0" * 40)
        time.sleep(stamps.RACY_SECONDS + 0.1)  # a file changed within this of its check is re-hashed
        path = folder / largest.name
        size = path.stat().st_size

        def hash_only() -> None:
            _sha256(path)

        def changed() -> None:
            os.utime(path)  # new mtime and ctime: the record no longer matches
            time.sleep(stamps.RACY_SECONDS + 0.1)
            start = time.perf_counter()
            hashed = stamps.check_against_manifest(folder, manifest, "T", folder.parents[1])
            timings.append(time.perf_counter() - start)
            assert hashed == [largest.name], hashed

        def unchanged() -> None:
            assert stamps.check_against_manifest(folder, manifest, "T", folder.parents[1]) == []

        sha = best(hash_only, args.repeats)
        timings: list[float] = []
        for _ in range(args.repeats):
            changed()
        first = min(timings)
        again = best(unchanged, args.repeats)
    print(f"CPU: {cpu_name()}")
    print(f"file: {largest.relative_to(args.shared)} ({size / 1e6:.2f} MB)")
    print(f"(a) sha256 alone:                 {sha * 1e3:8.2f} ms  ({size / sha / 1e6:.0f} MB/s)")
    print(f"(b) check, file changed (hashed): {first * 1e3:8.2f} ms  (b)/(a) = {first / sha:.2f}")
    print(f"(c) check, file unchanged (stat): {again * 1e3:8.2f} ms  (b)/(c) = {first / again:.0f}")


if __name__ == "__main__":
    main()
