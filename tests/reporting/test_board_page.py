"""``rumteb board``: the page, opened in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

The page is written once for the six published models plus a real ``rumteb run`` of a tiny model on two tasks
(a model that is not in mteb's registry, with throughput and missing tasks), and opened once; each test reloads
it. No browser is downloaded: Playwright drives /usr/bin/chromium, and without it these tests fail, naming the
package to install.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _helpers import STSB_ROWS, TERRA_ROWS, mirror_for_task

from rumteb.cli import main

CHROMIUM = Path("/usr/bin/chromium")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LOCAL_MODEL = "local/tiny-bert"


@pytest.fixture(scope="module")
def folders(
    _tiny_model_session: Path, tmp_path_factory: pytest.TempPathFactory, shared_data: Path
) -> list[Path]:
    """A real rumteb run of the tiny model (TERRa, RuSTSBenchmarkSTS) and the six published models."""
    tmp = tmp_path_factory.mktemp("board")
    model = tmp / "tiny-bert"
    shutil.copytree(_tiny_model_session, model)
    mirror = tmp / "mirror"
    mirror_for_task(mirror, "TERRa", {"default": TERRA_ROWS})
    mirror_for_task(mirror, "RuSTSBenchmarkSTS", {"default": STSB_ROWS})
    argv = ["run", "-m", str(model), "-t", "TERRa", "RuSTSBenchmarkSTS", "--data-dir", str(mirror)]
    assert main([*argv, "--output-folder", str(tmp / "out"), "--device", "cpu", "--precision", "fp32"]) == 0
    return [tmp / "out", shared_data / "published" / "results"]


@pytest.fixture(scope="module")
def board_file(folders: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("page") / "board.html"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["board", *map(str, folders), "-o", str(out)]) == 0
    assert stdout.getvalue() == f"Wrote {out.resolve()}\n"
    return out


@pytest.fixture(scope="module")
def table_csv(folders: list[Path]) -> list[dict[str, str]]:
    """``rumteb table --format csv --columns board`` for the same folders."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        assert main(["table", *map(str, folders), "--format", "csv", "--columns", "board"]) == 0
    return list(csv.DictReader(io.StringIO(stdout.getvalue())))


class Browser:
    """The page in Chromium, every request that is not a file recorded and refused, console errors kept."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.requests.append(route.request.url)
            route.abort()

    def rows(self, table: str) -> list[list[str]]:
        """The visible rows' cell texts of ``#table``, in display order."""
        script = """t => Array.from(document.querySelectorAll('#' + t + ' tbody tr'))
            .filter(r => r.offsetParent !== null)
            .map(r => Array.from(r.cells).map(c => c.innerText.trim()))"""
        rows: list[list[str]] = self.page.evaluate(script, table)
        return rows

    def header(self, table: str) -> list[str]:
        script = (
            "t => Array.from(document.querySelectorAll('#' + t + ' thead th')).map(h => h.innerText.trim())"
        )
        names: list[str] = self.page.evaluate(script, table)
        return names

    def models(self) -> list[str]:
        return [row[1] for row in self.rows("summary")]


@pytest.fixture(scope="module")
def _browser(board_file: Path) -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: these tests drive Debian's Chromium. Install it with: apt-get install -y "
            "chromium (never 'playwright install': no browser download)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        shared = Browser(page)
        page.goto(board_file.as_uri())
        yield shared
        browser.close()


@pytest.fixture
def board(_browser: Browser, board_file: Path) -> Browser:
    """The shared page, freshly loaded (no sorting or filter left over from another test)."""
    _browser.page.goto(board_file.as_uri())
    _browser.page.wait_for_selector("#chart-size .main-svg")
    return _browser


def test_the_page_loads_offline_without_console_errors(board: Browser, board_file: Path) -> None:
    html = board_file.read_text(encoding="utf-8")
    assert "<script src" not in html and "<link" not in html  # everything inline
    assert 1_000_000 < board_file.stat().st_size < 8_000_000  # plotly.js inline, a few MB at most
    assert board.page.title() == "ruMTEB board"
    assert len(board.rows("summary")) == 7
    assert board.page.locator("#chart-speed .main-svg").count() > 0  # the tiny model's measured throughput
    assert board.requests == []
    assert board.errors == []


def test_the_cells_equal_rumteb_table_csv(board: Browser, table_csv: list[dict[str, str]]) -> None:
    columns = list(table_csv[0])
    assert board.header("summary") == columns
    assert len(columns) == 18 and columns[:2] == ["Rank (Borda)", "Model"]
    expected = [[row[c] or "n/a" for c in columns] for row in table_csv]
    assert board.rows("summary") == expected
    local = next(row for row in table_csv if row["Model"] == LOCAL_MODEL)
    assert local["Mean (Task)"] == "" and local["PairClassification"] != ""


def test_the_per_task_view_shows_each_task_and_names_the_missing(board: Browser, folders: list[Path]) -> None:
    from rumteb.reporting.leaderboard import score_benchmark
    from rumteb.reporting.results import load_results

    header = board.header("per-task")
    assert len(header) == 24 and header[0] == "Model"
    by_model = {row[0]: dict(zip(header[1:], row[1:], strict=True)) for row in board.rows("per-task")}
    for model in load_results(folders):
        scores = score_benchmark(model)
        for task, score in scores.tasks.items():
            assert by_model[model.model][task] == ("n/a" if score is None else f"{100 * score:.2f}")
    assert [t for t, v in by_model[LOCAL_MODEL].items() if v != "n/a"] == ["TERRa", "RuSTSBenchmarkSTS"]
    why = board.page.locator('#per-task tr[data-model="local/tiny-bert"] td.missing').first.get_attribute(
        "title"
    )
    assert why == "no result file"
    notes = board.page.locator("#notes li").all_inner_texts()
    assert any(
        n.startswith(f"model {LOCAL_MODEL}: 21 of 23 tasks missing: GeoreviewClassification") for n in notes
    )


def test_clicking_a_column_header_resorts_the_rows(board: Browser, table_csv: list[dict[str, str]]) -> None:
    ranked = [row["Model"] for row in table_csv]
    assert board.models() == ranked
    by_mean = sorted(
        (row for row in table_csv if row["Mean (Task)"]), key=lambda r: float(r["Mean (Task)"]), reverse=True
    )
    board.page.click("#summary th >> text='Mean (Task)'")
    assert board.models() == [r["Model"] for r in by_mean] + [LOCAL_MODEL]  # unknown last
    board.page.click("#summary th >> text='Mean (Task)'")
    assert board.models() == [r["Model"] for r in reversed(by_mean)] + [LOCAL_MODEL]
    board.page.click("#summary th >> text='Model'")
    assert board.models() == sorted(ranked, key=str.lower)
    board.page.click("#summary th >> text='Rank (Borda)'")
    assert board.models() == ranked
    # the per-task table sorts too
    board.page.click("#per-task th >> text='TERRa'")
    column = board.header("per-task").index("TERRa")
    terra = [float(row[column]) for row in board.rows("per-task")]  # all 7 models ran TERRa
    assert len(terra) == 7 and terra == sorted(terra, reverse=True)


def test_the_zero_shot_filter_hides_the_models_it_should(
    board: Browser, table_csv: list[dict[str, str]]
) -> None:
    board.page.select_option("#filter-zero-shot", "only")
    zero_shot = [row["Model"] for row in table_csv if row["Zero-shot"] == "100"]
    assert 0 < len(zero_shot) < len(table_csv)
    assert board.models() == zero_shot
    assert [row[0] for row in board.rows("per-task")] == zero_shot
    visible = board.page.evaluate(
        "() => document.getElementById('chart-size').data.filter(t => t.visible !== false).map(t => t.name)"
    )
    assert visible == [*zero_shot, "Pareto front"]
    board.page.select_option("#filter-zero-shot", "known")
    assert LOCAL_MODEL not in board.models() and len(board.models()) == 6  # its training data is unknown (-1)
    assert board.page.inner_text("#shown-count") == "6 of 7 models shown"


def test_size_type_and_completeness_filters(board: Browser) -> None:
    board.page.fill("#filter-min-params", "100")
    board.page.fill("#filter-max-params", "200")
    assert sorted(board.models()) == ["cointegrated/LaBSE-en-ru", "intfloat/multilingual-e5-small"]
    board.page.fill("#filter-min-params", "")
    board.page.fill("#filter-max-params", "")
    board.page.check("#filter-complete")
    assert LOCAL_MODEL not in board.models() and len(board.models()) == 6
    board.page.uncheck("#filter-complete")
    board.page.uncheck(".filter-type[value='STS']")
    assert not board.page.is_visible("#summary th[data-type='STS']")
    assert board.page.is_visible("#summary th[data-type='Retrieval']")
    assert not board.page.is_visible("#per-task th >> text='RuSTSBenchmarkSTS'")
    assert board.page.is_visible("#per-task th >> text='TERRa'")


def test_the_users_own_models_are_highlighted(board: Browser) -> None:
    own = board.page.evaluate(
        "() => Array.from(document.querySelectorAll('#summary tr.own')).map(r => r.dataset.model)"
    )
    assert own == [LOCAL_MODEL]
    symbols = board.page.evaluate(
        "() => Object.fromEntries(document.getElementById('chart-size').data.filter(t => t.marker).map(t => [t.name, t.marker.symbol]))"
    )
    assert symbols[LOCAL_MODEL] == "star" and symbols["cointegrated/rubert-tiny2"] == "circle"


def test_a_screenshot_at_1280x800(board: Browser, tmp_path: Path) -> None:
    path = tmp_path / "board.png"
    board.page.screenshot(path=str(path))
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1280, 800)


def test_the_docs_screenshot_is_committed_and_small() -> None:
    from _helpers import REPO_ROOT

    path = REPO_ROOT / "docs" / "src" / "img" / "board.png"
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) < 300_000
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1280, 800)
    assert "img/board.png" in (REPO_ROOT / "docs" / "src" / "leaderboard.md").read_text(encoding="utf-8")


def test_without_plotly_rumteb_board_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_data: Path
) -> None:
    monkeypatch.setitem(sys.modules, "plotly", None)  # import plotly raises ImportError
    out = tmp_path / "board.html"
    assert main(["board", str(shared_data / "published" / "results"), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        "rumteb: error: rumteb board needs jinja2 and plotly, which are not installed. Install them with: pip "
        'install "rumteb[board]"'
    )
    assert not out.exists()


def test_a_folder_without_results_is_one_error_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "board.html"
    assert main(["board", str(tmp_path), "-o", str(out)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"rumteb: error: No ruMTEB result files under {tmp_path}")
    assert not out.exists()
