"""``rumteb plot``: the grouped bar chart of task-type means, from the six published models' results."""

from __future__ import annotations

import builtins
import shutil
from pathlib import Path
from typing import Any

import pytest

from rumteb.reporting import leaderboard, plot, result_file, results
from rumteb.reporting.leaderboard import TASK_TYPES

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def published(shared_data: Path) -> Path:
    return shared_data / "published" / "results"


def _png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG header, read without matplotlib."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE and header[12:16] == b"IHDR"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def test_plot_writes_a_png_of_the_requested_size(published: Path, tmp_path: Path) -> None:
    from PIL import Image

    out = plot.plot_type_means(published, tmp_path / "figs" / "means.png", size=(8, 4), dpi=50)
    assert out == tmp_path / "figs" / "means.png"
    assert out.read_bytes().startswith(PNG_SIGNATURE) and out.stat().st_size > 1000
    assert _png_size(out) == (400, 200)
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (400, 200)
        assert len(set(image.convert("RGB").getdata())) > 10  # bars in several colours, not a blank canvas


def test_bars_are_the_type_means_of_each_model(published: Path) -> None:
    models = results.load_results(published)
    scores = [leaderboard.score_benchmark(m) for m in models]
    figure = plot._draw(scores, None, (10, 5), 50)
    (axes,) = figure.axes
    assert len(axes.containers) == 6
    for container, score in zip(axes.containers, scores, strict=True):
        assert container.get_label() == score.model
        heights = [bar.get_height() for bar in container]
        expected = [100 * score.types[kind] for kind in TASK_TYPES]  # type: ignore[operator]
        assert heights == pytest.approx(expected, abs=1e-9)
    assert [t.get_text() for t in axes.get_xticklabels()][-1] == "STS"


def test_missing_type_means_are_absent_never_zero(published: Path, tmp_path: Path) -> None:
    partial = tmp_path / "results"
    shutil.copytree(published, partial)
    for path in partial.glob("cointegrated__rubert-tiny2/*/RuBQRetrieval.json"):
        path.unlink()
    scores = [leaderboard.score_benchmark(m) for m in results.load_results(partial)]
    figure = plot._draw(scores, None, (10, 5), 50)
    (axes,) = figure.axes
    by_label = {c.get_label(): c for c in axes.containers}
    tiny = by_label["cointegrated/rubert-tiny2 (n/a: Retrieval)"]
    assert len(tiny) == 6 and all(bar.get_height() > 1 for bar in tiny)
    assert sum(len(c) for c in axes.containers) == 6 * 7 - 1
    assert "n/a" in axes.get_title() and [t.get_text() for t in axes.texts] == ["n/a"]
    assert plot.plot_type_means(partial, tmp_path / "partial.png", dpi=20).stat().st_size > 0


def test_cli_plot(published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fig.png"
    argv = ["plot", str(published), "--out", str(out), "--size", "6", "3", "--dpi", "40", "-b", "ruMTEB(v1)"]
    assert _cli(argv) == 0
    assert capsys.readouterr().out == f"Wrote {out}\n"
    assert _png_size(out) == (240, 120)


def test_without_matplotlib_the_error_names_the_extra(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r'pip install "rumteb\[plot\]"'):
        plot.plot_type_means(published, tmp_path / "fig.png")
    assert _cli(["plot", str(published), "--out", str(tmp_path / "fig.png")]) == 1
    assert 'pip install "rumteb[plot]"' in capsys.readouterr().err
    assert not (tmp_path / "fig.png").exists()


def test_bad_arguments(published: Path, tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"The 'out' parameter of plot_type_means must be a path ending with an image suffix"
    ):
        plot.plot_type_means(published, tmp_path / "fig.txt")
    with pytest.raises(ValueError, match=r"The 'dpi' parameter of plot_type_means must be an int"):
        plot.plot_type_means(published, tmp_path / "fig.png", dpi=0)
    with pytest.raises(ValueError, match=r"The 'size' parameter"):
        plot.plot_type_means(published, tmp_path / "fig.png", size=(0, 4))
    with pytest.raises(result_file.ResultsError):
        plot.plot_type_means(tmp_path, tmp_path / "fig.png")
    with pytest.raises(LookupError):
        plot.plot_type_means(published, tmp_path / "fig.png", benchmark="ruMTEB(v2)")


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _cli(["plot", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for expected in ("PATH [PATH ...]", "--out FIG.png", "--benchmark", "never drawn as 0", "rumteb[plot]"):
        assert expected in text


def _cli(argv: list[str]) -> int:
    from rumteb.cli import main

    return main(argv)
