"""``rumteb.models.recipe`` (the recipe's old place) still imports for one release, as the very same modules as
``rumteb.recipe``, with a DeprecationWarning."""

from __future__ import annotations

import subprocess
import sys


def test_old_import_paths_give_the_new_modules_with_a_deprecation_warning() -> None:
    code = """
import warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from rumteb.models.recipe.config import load_config
    import rumteb.models.recipe.merge as old_merge
    from rumteb.models.recipe import contamination
import rumteb.recipe.config, rumteb.recipe.merge, rumteb.recipe.contamination
assert load_config is rumteb.recipe.config.load_config
assert old_merge is rumteb.recipe.merge
assert contamination is rumteb.recipe.contamination
deprecations = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
assert any("rumteb.models.recipe is deprecated" in m and "rumteb.recipe" in m for m in deprecations), deprecations
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_an_unknown_old_submodule_is_an_import_error() -> None:
    code = "import rumteb.models.recipe.nonexistent"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'rumteb.recipe.nonexistent'" in result.stderr
