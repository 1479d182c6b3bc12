"""The public API: get_task, get_tasks, get_benchmark, register."""

from __future__ import annotations

import importlib

import mteb
import pytest
from packaging.version import Version

import rumteb


def test_get_task_returns_fresh_rumteb_instances() -> None:
    a, b = rumteb.get_task("TERRa"), rumteb.get_task("TERRa")
    assert a is not b
    assert type(a).__module__ == "rumteb.tasks.pair_classification"
    assert a.metadata.name == "TERRa"


@pytest.mark.parametrize(
    ("bad", "suggestion"), [("TERRA", "TERRa"), ("STS2", "STS22"), ("MIRACLRetrival", "MIRACLRetrieval")]
)
def test_unknown_task_suggests_the_closest(bad: str, suggestion: str) -> None:
    with pytest.raises(LookupError, match=rf"Unknown task '{bad}'\. Did you mean: .*{suggestion}") as err:
        rumteb.get_task(bad)
    assert "rumteb tasks" in str(err.value)


def test_unknown_benchmark_suggests_the_closest() -> None:
    with pytest.raises(LookupError, match=r"Unknown benchmark 'rumteb'\. Did you mean: ruMTEB"):
        rumteb.get_benchmark("rumteb")
    with pytest.raises(LookupError, match="Unknown benchmark"):
        rumteb.get_tasks(benchmark="MTEB(rus, v1)")


def test_get_tasks_defaults_to_the_benchmark_with_its_splits() -> None:
    tasks = rumteb.get_tasks()
    assert len(tasks) == 23
    by_name = {t.metadata.name: t for t in tasks}
    assert by_name["RuSTSBenchmarkSTS"].eval_splits == ["test"]
    assert by_name["MassiveIntentClassification"].eval_splits == ["validation", "test"]
    v11 = {t.metadata.name for t in rumteb.get_tasks(benchmark="ruMTEB(v1.1)")}
    assert "MIRACLRetrievalHardNegatives.v2" in v11 and "MIRACLRetrieval" not in v11


def test_get_tasks_by_name_keeps_order_and_passes_data_dir(tmp_path) -> None:
    tasks = rumteb.get_tasks(["STS22", "TERRa"], data_dir=tmp_path)
    assert [t.metadata.name for t in tasks] == ["STS22", "TERRa"]
    assert all(t.data_dir == tmp_path for t in tasks)
    with pytest.raises(TypeError, match="'names' parameter of get_tasks must be a list"):
        rumteb.get_tasks("TERRa")


def test_get_benchmark_names_and_alias() -> None:
    v1 = rumteb.get_benchmark()
    assert isinstance(v1, mteb.Benchmark)
    assert v1.name == "ruMTEB" and "ruMTEB(v1)" in v1.aliases
    assert rumteb.get_benchmark("ruMTEB(v1)").name == "ruMTEB"
    assert rumteb.get_benchmark("ruMTEB(v1.1)").name == "ruMTEB(v1.1)"
    # fresh task instances every time: mteb's evaluators keep per-instance random state
    assert rumteb.get_benchmark().tasks[0] is not v1.tasks[0]


def test_supported_mteb_range_is_pinned() -> None:
    """register() extends private mteb registries; this pins the mteb range it is tested against."""
    version = Version(importlib.metadata.version("mteb"))
    assert Version("2.26") <= version < Version("3")
    benchmarks = importlib.import_module("mteb.benchmarks.get_benchmark")
    assert isinstance(benchmarks._build_registry(), dict)
    assert isinstance(benchmarks._build_aliases_registry(), dict)
    assert isinstance(importlib.import_module("mteb.models.model_implementations").MODEL_REGISTRY, dict)


def test_register_adds_benchmarks_without_touching_builtins() -> None:
    builtins = {b.name: b for b in mteb.get_benchmarks()}
    rus_v1 = mteb.get_benchmark("MTEB(rus, v1)")
    rumteb.register()
    rumteb.register()  # idempotent
    after = {b.name: b for b in mteb.get_benchmarks()}
    assert set(after) - set(builtins) <= {"ruMTEB", "ruMTEB(v1.1)"}
    assert {"ruMTEB", "ruMTEB(v1.1)"} <= set(after)
    assert all(after[name] is bench for name, bench in builtins.items())
    assert mteb.get_benchmark("MTEB(rus, v1)") is rus_v1
    assert mteb.get_benchmark("MTEB(rus)") is rus_v1
    assert mteb.get_benchmark("ruMTEB(v1)") is mteb.get_benchmark("ruMTEB")
    assert len(mteb.get_benchmark("ruMTEB(v1.1)").tasks) == 23
    assert type(mteb.get_benchmark("ruMTEB").tasks[0]).__module__.startswith("rumteb.tasks")


def test_register_fails_clearly_on_an_unsupported_mteb(monkeypatch: pytest.MonkeyPatch) -> None:
    benchmarks = importlib.import_module("mteb.benchmarks.get_benchmark")
    monkeypatch.delattr(benchmarks, "_build_registry")
    with pytest.raises(RuntimeError, match=r"supports mteb>=2\.26,<3"):
        rumteb.register()
