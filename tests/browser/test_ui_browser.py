"""The MLflow UI in Debian's Chromium: notebook 02's grid parent expands to show every child by name."""

from __future__ import annotations

import pytest

from course_tools import ui_browser
from course_tools.notebooks import execute_notebook, small_budget
from course_tools.screenshots import GRID_NOTEBOOK, newest_grid
from course_tools.screenshots import grid_views as capture_grid_views
from tutorial_utils.tracking import local_store_uri


def test_runs_page_url():
    assert ui_browser.runs_page_url("http://127.0.0.1:5000/", "7") == "http://127.0.0.1:5000/#/experiments/7/runs"


def test_a_missing_browser_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(ui_browser, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(ui_browser.BrowserUnavailable, match="apt-get install chromium"), ui_browser.chromium_page():
        pass


def test_a_store_without_the_grid_says_what_to_run(fresh_store):
    with pytest.raises(ValueError, match=r"execute 02_lasso_grid_child_runs\.ipynb"):
        newest_grid(local_store_uri())


def test_the_grid_parent_expands_to_its_children_in_the_ui(mlflow_server, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    budget = small_budget(GRID_NOTEBOOK) | {"EXPERIMENT_NAME": "browser-test-grid"}  # this test's own experiment
    execute_notebook(GRID_NOTEBOOK, tmp_path / GRID_NOTEBOOK.name, budget, progress_bar=False)

    grid, views = capture_grid_views(mlflow_server, tmp_path / "pictures", "browser-test-grid")
    assert grid.child_names == sorted(f"lasso-alpha-{alpha:g}" for alpha in budget["ALPHAS"])
    assert views.collapsed == []  # collapsed: the children hide under their parent
    assert views.expanded == grid.child_names
    assert "compare-runs" in views.compare_url
    assert all(picture.stat().st_size > 10_000 for picture in views.pictures)
