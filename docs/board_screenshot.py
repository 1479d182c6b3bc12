"""Save the screenshot of the board page shown in docs/src/leaderboard.md (1280x800, headless Debian Chromium).

Usage, after ``bash .ci/demo`` (which writes out/board.html):
    python docs/board_screenshot.py out/board.html docs/src/img/board.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright


def main(page_path: str, png_path: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.route(
            "**/*",
            lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort(),
        )
        page.goto(Path(page_path).resolve().as_uri())
        page.wait_for_selector("#chart-size .main-svg")
        page.screenshot(path=png_path)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
