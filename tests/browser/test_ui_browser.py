"""The MLflow UI in Debian's Chromium: notebook 02's grid parent expands to show every child by name; the pictures of
02's grid, 04's trials and 05's artifacts are taken (into tmp_path)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from course_tools import ui_browser
from course_tools.notebooks import execute_notebook, small_budget
from course_tools.screenshots import (
    ARTIFACTS_NOTEBOOK,
    ARTIFACTS_RUN,
    GRID_NOTEBOOK,
    TUNING_NOTEBOOK,
    artifacts_view,
    newest_grid,
    study_view,
)
from course_tools.screenshots import grid_views as capture_grid_views
from tutorial_utils.tracking import local_store_uri


def test_runs_page_url():
    assert ui_browser.runs_page_url("http://127.0.0.1:5000/", "7") == "http://127.0.0.1:5000/#/experiments/7/runs"


def test_run_page_url():
    url = ui_browser.run_page_url("http://127.0.0.1:5000/", "7", "abc")
    assert url == "http://127.0.0.1:5000/#/experiments/7/runs/abc/artifacts"


def picture_width(picture: Path) -> int:
    """A PNG's width in pixels, from its header."""
    return struct.unpack(">I", picture.read_bytes()[16:20])[0]


#: Every picture is the page right of the sidebar: readable 1:1 in a 1000 px column.
PICTURE_WIDTH = ui_browser.PICTURE_VIEWPORT["width"] - ui_browser.SIDEBAR_WIDTH


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
    assert [p.name for p in views.pictures] == ["ui_run_tree.png", "ui_compare.png"]
    assert all(picture.stat().st_size > 10_000 for picture in views.pictures)
    assert all(picture_width(picture) == PICTURE_WIDTH for picture in views.pictures)


def test_the_trials_of_a_study_are_compared_in_the_ui(mlflow_server, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    budget = small_budget(TUNING_NOTEBOOK) | {"EXPERIMENT_NAME": "browser-test-tuning"}
    execute_notebook(TUNING_NOTEBOOK, tmp_path / TUNING_NOTEBOOK.name, budget, progress_bar=False)

    study, views = study_view(mlflow_server, tmp_path / "pictures", "browser-test-tuning")
    assert study.child_names == [f"trial-{number:02d}" for number in range(budget["N_TRIALS"])]  # no refit
    assert views.expanded == study.child_names
    (picture,) = views.pictures
    assert picture.name == "ui_04_parallel_coordinates.png"
    assert picture.stat().st_size > 10_000 and picture_width(picture) == PICTURE_WIDTH


def test_a_runs_artifacts_tab_is_captured(mlflow_server, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    budget = small_budget(ARTIFACTS_NOTEBOOK) | {"EXPERIMENT_NAME": "browser-test-artifacts"}
    execute_notebook(ARTIFACTS_NOTEBOOK, tmp_path / ARTIFACTS_NOTEBOOK.name, budget, progress_bar=False)

    picture = artifacts_view(mlflow_server, tmp_path / "pictures", "browser-test-artifacts")
    assert picture == tmp_path / "pictures" / "ui_05_artifacts.png"
    assert picture.stat().st_size > 10_000 and picture_width(picture) == PICTURE_WIDTH


def test_a_store_without_the_run_says_which_notebook_makes_it(fresh_store):
    with pytest.raises(ValueError, match=rf"no '{ARTIFACTS_RUN}' run .*execute {ARTIFACTS_NOTEBOOK.name}"):
        artifacts_view(local_store_uri(), fresh_store)
