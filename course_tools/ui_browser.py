"""The MLflow UI in a real browser: Playwright driving Debian's Chromium, for the UI test and the course's pictures.

Playwright never downloads a browser here: it starts the system Chromium (`apt-get install chromium`).
The pictures are taken in MLflow 3.17's UI: the runs table of an experiment, the compare page of a parent's children
(its parallel coordinates chart and, below it, the parameter and metric tables), and a run's Artifacts tab.
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
#: The pictures' window: its content right of the sidebar is 1000 px wide, shown 1:1 in a 1000 px column; tall, so
#: that a comparison and its tables fit without scrolling.
PICTURE_VIEWPORT = {"width": 1200, "height": 1200}
#: The UI's navigation sidebar, left of every page's content; the pictures leave it out.
SIDEBAR_WIDTH = 200
#: Space kept below the last element a picture shows.
PICTURE_MARGIN = 16
EXPANDER = 'button[data-component-id*="runnamecellrenderer"]'
ASSISTANT_CLOSE = '[data-component-id="mlflow.assistant.chat_panel.close"]'
#: The compare page's multi-selects (parameters, metrics) and the options of the one that is open.
SELECT = ".du-bois-light-select"
SELECTED_ITEM = ".du-bois-light-select-selection-item-content"
OPEN_OPTION = (
    ".du-bois-light-select-dropdown:not(.du-bois-light-select-dropdown-hidden) .du-bois-light-select-item-option"
)
PLOT = ".js-plotly-plot"
#: Plotly draws the chart after the selection changed; the picture waits this long for it to settle.
PLOT_SETTLE_MS = 1_500
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


def run_page_url(tracking_uri: str, experiment_id: str, run_id: str, tab: str = "artifacts") -> str:
    """One tab of a run's page in the MLflow UI (`overview`, `model-metrics`, `artifacts`, ...)."""
    return f"{tracking_uri.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}/{tab}"


def close_assistant(page) -> None:
    """Close MLflow's assistant panel if it is open: it would cover a third of the page."""
    close = page.locator(ASSISTANT_CLOSE)
    if close.count():
        close.first.click()


def open_runs_page(page, tracking_uri: str, experiment_id: str, first_run_name: str) -> None:
    """Open an experiment's runs table and wait until `first_run_name` shows; close the assistant panel."""
    page.goto(runs_page_url(tracking_uri, experiment_id))
    page.get_by_text(first_run_name, exact=True).first.wait_for()
    close_assistant(page)


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
class ParallelAxes:
    """The axes of the compare page's parallel coordinates chart, left to right: parameters, then metrics (the last
    metric colours the lines)."""

    params: list[str]
    metrics: list[str]


def choose_options(page, select, names: list[str]) -> None:
    """Pick `names`, in order, in one of the compare page's multi-selects (a Playwright `Locator`), by typing each."""
    field = select.locator("input")
    for name in names:
        if field.get_attribute("aria-expanded") != "true":
            select.click()  # opens the list; its search field is read-only until then
        field.fill(name)
        page.locator(f'{OPEN_OPTION}[title="{name}"]').click()
        select.locator(SELECTED_ITEM, has_text=name).first.wait_for()
    page.keyboard.press("Escape")


def choose_parallel_axes(page, axes: ParallelAxes) -> None:
    """Replace the parallel coordinates chart's default axes (the first few parameters) by `axes`."""
    panel = page.get_by_role("tabpanel")
    panel.get_by_role("button", name="Clear All").click()
    selects = panel.locator(SELECT)
    choose_options(page, selects.nth(0), axes.params)
    choose_options(page, selects.nth(1), axes.metrics)
    page.wait_for_timeout(PLOT_SETTLE_MS)


def show_compare_tables(page) -> None:
    """Below the chart: fold the run details away (they show run ids), keep only the parameters that differ."""
    page.get_by_role("button", name="Run details").click()
    page.get_by_role("switch", name="Parameters - Show diff only").click()


def last_metric_cell(page):
    """The compare page's last metric name, in the table of metrics: its cell (a `Locator`) is where the table ends.
    Each metric's name links to its chart ("Plot chart")."""
    return page.locator('a[title="Plot chart"]').last.locator("xpath=..")


def save_picture(page, path: Path, *elements) -> Path:
    """Save the page's content right of the sidebar, from the top down to the lowest of `elements` (`Locator`s)."""
    bottom = max(box["y"] + box["height"] for box in (element.bounding_box() for element in elements))
    width = page.viewport_size["width"] - SIDEBAR_WIDTH
    page.screenshot(
        path=str(path), clip={"x": SIDEBAR_WIDTH, "y": 0, "width": width, "height": bottom + PICTURE_MARGIN}
    )
    return path


def capture_comparison(page, path: Path, axes: ParallelAxes, with_tables: bool) -> Path:
    """On the compare page: the parallel coordinates chart over `axes`, and the parameter and metric tables below it
    if `with_tables`; saved to `path`."""
    choose_parallel_axes(page, axes)
    if with_tables:
        show_compare_tables(page)
        return save_picture(page, path, last_metric_cell(page))
    return save_picture(page, path, page.locator(PLOT).first)


@dataclass(frozen=True)
class ParentViews:
    """What the UI showed of one parent run: children visible before and after expanding it, and the pictures."""

    collapsed: list[str]
    expanded: list[str]
    expand_seconds: float
    compare_url: str
    pictures: list[Path]


def capture_parent_views(
    tracking_uri: str,
    experiment_id: str,
    parent_name: str,
    child_names: list[str],
    pictures: tuple[Path | None, Path],
    columns: list[str],
    axes: ParallelAxes,
    with_tables: bool = True,
) -> ParentViews:
    """Open the runs table, expand the parent, show `columns` and save the table to `pictures[0]` (unless None);
    then compare the children (`capture_comparison`) into `pictures[1]`."""
    tree, compare = pictures
    compare.parent.mkdir(parents=True, exist_ok=True)
    with chromium_page(PICTURE_VIEWPORT) as page:
        open_runs_page(page, tracking_uri, experiment_id, parent_name)
        collapsed = visible_run_names(page, child_names)
        seconds = expand_parent(page, parent_name, child_names)
        expanded = visible_run_names(page, child_names)
        if tree is not None:
            toggle_columns(page, columns)
            save_picture(page, tree, *(run_row(page, name).first for name in child_names))
        compare_runs(page, child_names)
        capture_comparison(page, compare, axes, with_tables)
        return ParentViews(collapsed, expanded, seconds, page.url, [p for p in pictures if p is not None])


def capture_artifacts(
    tracking_uri: str, experiment_id: str, run_id: str, folders: list[str], preview: str, picture: Path
) -> Path:
    """A run's Artifacts tab with `folders` unfolded and the image `preview` (its path, such as `plots/a.png`)
    shown; saved to `picture`, down to the bottom of the image."""
    picture.parent.mkdir(parents=True, exist_ok=True)
    with chromium_page(PICTURE_VIEWPORT) as page:
        page.goto(run_page_url(tracking_uri, experiment_id, run_id, "artifacts"))
        page.get_by_text(folders[-1], exact=True).first.wait_for()
        close_assistant(page)
        for folder in folders:
            page.get_by_text(folder, exact=True).first.click()
        page.get_by_text(preview.rsplit("/", 1)[-1], exact=True).first.click()
        image = page.locator(f'img[alt="{preview}"]').first
        image.wait_for()
        page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=image.element_handle())
        return save_picture(page, picture, image)
