"""The MLflow UI in a real browser: Playwright driving Debian's Chromium, for the UI test and the README pictures.

Playwright never downloads a browser here: it starts the system Chromium (`apt-get install chromium`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
#: Headless, and no background traffic: on a machine without internet Chromium would retry its own services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1500, "height": 820}
#: The part of the page the README shows: the table or the comparison, without empty space below.
SCREENSHOT_CLIP = {"x": 200, "y": 0, "width": 1300, "height": 600}
EXPANDER = 'button[data-component-id*="runnamecellrenderer"]'
ASSISTANT_CLOSE = '[data-component-id="mlflow.assistant.chat_panel.close"]'
PAGE_TIMEOUT_MS = 60_000


class BrowserUnavailable(RuntimeError):
    """Chromium or Playwright is missing."""


@contextmanager
def chromium_page(viewport: dict[str, int] = VIEWPORT) -> Iterator:
    """A fresh headless Chromium page (Playwright's `Page`); BrowserUnavailable says how to install what is missing."""
    if not CHROMIUM.exists():
        raise BrowserUnavailable(f"{CHROMIUM} not found: install Debian's browser with `apt-get install chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise BrowserUnavailable("Playwright is missing: `make install` installs it (the test extra)") from error
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=viewport)
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def runs_page_url(tracking_uri: str, experiment_id: str) -> str:
    """The runs table of one experiment in the MLflow UI."""
    return f"{tracking_uri.rstrip('/')}/#/experiments/{experiment_id}/runs"


def open_runs_page(page, tracking_uri: str, experiment_id: str, first_run_name: str) -> None:
    """Open an experiment's runs table and wait until `first_run_name` shows; close the assistant panel."""
    page.goto(runs_page_url(tracking_uri, experiment_id))
    page.get_by_text(first_run_name, exact=True).first.wait_for()
    close = page.locator(ASSISTANT_CLOSE)
    if close.count():
        close.first.click()


def run_row(page, run_name: str):
    """The table row showing `run_name` (a Playwright `Locator`)."""
    return page.locator('[role="row"]', has=page.get_by_text(run_name, exact=True))


def expand_parent(page, parent_name: str, child_names: list[str]) -> float:
    """Click a parent run's expander and wait until every child shows; return the seconds that took."""
    start = time.perf_counter()
    run_row(page, parent_name).locator(EXPANDER).first.click()
    for name in child_names:
        page.get_by_text(name, exact=True).first.wait_for()
    return time.perf_counter() - start


def visible_run_names(page, candidates: list[str]) -> list[str]:
    """Those of `candidates` whose name is visible in the table now."""
    return [name for name in candidates if page.get_by_text(name, exact=True).first.is_visible()]


def compare_runs(page, run_names: list[str]) -> None:
    """Tick the rows of `run_names` and open MLflow's compare view of them."""
    for name in run_names:
        run_row(page, name).locator('input[type="checkbox"]').first.check()
    page.get_by_role("button", name="Compare", exact=True).click()
    page.get_by_text(run_names[0], exact=True).first.wait_for()


def toggle_columns(page, names: list[str]) -> None:
    """Show (or hide, if shown) columns of the runs table, by their names in its "Columns" menu."""
    page.get_by_role("button", name="Columns").click()
    menu = page.get_by_role("dialog")
    for name in names:
        menu.get_by_text(name, exact=True).first.click()
    page.keyboard.press("Escape")


@dataclass(frozen=True)
class ParentViews:
    """What the UI showed of one parent run: children visible before and after expanding it, and the pictures."""

    collapsed: list[str]
    expanded: list[str]
    expand_seconds: float
    compare_url: str
    pictures: list[Path]


def capture_parent_views(
    tracking_uri: str, experiment_id: str, parent_name: str, child_names: list[str], out_dir: Path, columns: list[str]
) -> ParentViews:
    """Open the runs table, expand the parent, show `columns`, then compare its children; save both views as PNG."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tree, compare = out_dir / "ui_run_tree.png", out_dir / "ui_compare.png"
    with chromium_page() as page:
        open_runs_page(page, tracking_uri, experiment_id, parent_name)
        collapsed = visible_run_names(page, child_names)
        seconds = expand_parent(page, parent_name, child_names)
        toggle_columns(page, columns)
        expanded = visible_run_names(page, child_names)
        page.screenshot(path=str(tree), clip=SCREENSHOT_CLIP)
        compare_runs(page, child_names)
        page.screenshot(path=str(compare), clip=SCREENSHOT_CLIP)
        return ParentViews(collapsed, expanded, seconds, page.url, [tree, compare])
