"""The layout's rules (docs/src/architecture.md): layers with downward imports only, no import circles, small
modules, and a command line that starts without torch or mteb.

The import contracts live in pyproject.toml ([tool.importlinter]) and are checked by import-linter's
``lint-imports``, here and in .ci/run; these tests also show that a deliberate upward import breaks them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rumteb

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(rumteb.__file__).resolve().parent  # the installed package (the wheel, in CI)
MAX_LINES = 400
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
    "lint-imports"
)


def _lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the repository's contracts, on the ``rumteb`` package found under ``package_parent``."""
    assert LINT_IMPORTS is not None, 'lint-imports is missing: pip install "rumteb[dev]" (import-linter)'
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=package_parent,
        env={"PATH": "", "PYTHONPATH": str(package_parent), "HOME": str(package_parent)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the installed ``rumteb`` package that a test may break."""
    parent = tmp_path_factory.mktemp("layout")
    shutil.copytree(PACKAGE, parent / "rumteb", ignore=shutil.ignore_patterns("__pycache__"))
    return parent


def test_the_import_contracts_hold() -> None:
    result = _lint_imports(PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "upward_import", "broken"),
    [
        # the model layer reaching up into the command line
        (
            "models/runtime/_devices.py",
            "import rumteb.cli.run",
            "rumteb.models is not allowed to import rumteb.cli",
        ),
        # the data layer reaching up into the tasks that use it
        ("data/errors.py", "import rumteb.tasks", "rumteb.data is not allowed to import rumteb.tasks"),
        # another package's private module, from another layer and from a sibling subpackage of rumteb.models
        (
            "evaluation/speed.py",
            "import rumteb.models.runtime._memory",
            "rumteb.evaluation is not allowed to import rumteb.models.runtime._memory",
        ),
        (
            "models/endpoint/_encoder.py",
            "import rumteb.models.runtime._local",
            "rumteb.models.endpoint is not allowed to import rumteb.models.runtime._local",
        ),
    ],
)
def test_an_upward_import_breaks_the_layers(
    package_copy: Path, module: str, upward_import: str, broken: str
) -> None:
    path = package_copy / "rumteb" / module
    original = path.read_text(encoding="utf-8")
    path.write_text(original + f"\n{upward_import}  # deliberate upward import\n", encoding="utf-8")
    try:
        result = _lint_imports(package_copy)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode == 1, result.stdout
    assert broken in result.stdout


def test_an_import_circle_breaks_the_no_cycles_contract(package_copy: Path) -> None:
    # evaluation.speed already imports nothing from evaluation.guard; guard imports speed: make it a circle
    path = package_copy / "rumteb" / "evaluation" / "speed.py"
    original = path.read_text(encoding="utf-8")
    path.write_text(original + "\nimport rumteb.evaluation.guard  # deliberate circle\n", encoding="utf-8")
    try:
        result = _lint_imports(package_copy)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode == 1, result.stdout
    assert "No cycles are allowed in rumteb.evaluation" in result.stdout


def test_every_private_module_is_in_the_forbidden_contracts() -> None:
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}
    listed = set(contracts["private-modules"]["forbidden_modules"])
    private = {
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for path in PACKAGE.rglob("_*.py")
        if not path.name.startswith("__") and len(path.relative_to(PACKAGE).parts) > 1
    }
    private = {name for name in private if not name.startswith("rumteb._util.")}
    assert private - listed == set(), "add these to the private-modules contracts in pyproject.toml"
    in_models = {name for name in private if name.count(".") == 3 and name.startswith("rumteb.models.")}
    assert in_models == set(contracts["private-modules-models"]["forbidden_modules"])


def test_no_module_is_over_400_lines() -> None:
    sizes = {
        path.relative_to(PACKAGE.parent).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    assert len(sizes) > 40
    too_long = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert not too_long, f"split these modules by responsibility (at most {MAX_LINES} lines): {too_long}"


def test_the_command_line_starts_without_torch_or_mteb() -> None:
    # every command's --help, and the top-level one, parse without loading the library behind them
    code = """
import contextlib, io, sys
from rumteb.cli import build_parser
parser = build_parser()
commands = next(a for a in parser._actions if a.dest == "command").choices
for argv in [["--help"], *[[name, "--help"] for name in commands if name != "mteb"]]:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        parser.parse_args(argv)
heavy = sorted(m for m in ("torch", "mteb", "transformers", "sentence_transformers", "datasets") if m in sys.modules)
print(len(commands), heavy)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, heavy = result.stdout.split(" ", 1)
    assert int(count) >= 14
    assert heavy.strip() == "[]"
