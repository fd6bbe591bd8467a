"""The MLflow UI in Debian's Chromium: notebook 02's grid parent expands to show every child by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tutorial_utils import ui_browser
from tutorial_utils.notebooks import execute_notebook, read_parameters, small_budget
from tutorial_utils.paths import BUILD_DIR, NOTEBOOKS_DIR

GRID_NOTEBOOK = NOTEBOOKS_DIR / "02_lasso_grid_child_runs.ipynb"
SCREENSHOTS = BUILD_DIR / "ui"


def test_runs_page_url():
    assert ui_browser.runs_page_url("http://127.0.0.1:5000/", "7") == "http://127.0.0.1:5000/#/experiments/7/runs"


def test_a_missing_browser_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(ui_browser, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(ui_browser.BrowserUnavailable, match="apt-get install chromium"), ui_browser.chromium_page():
        pass


def test_the_grid_parent_expands_to_its_children_in_the_ui(mlflow_server, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    budget = small_budget(GRID_NOTEBOOK)
    execute_notebook(GRID_NOTEBOOK, tmp_path / GRID_NOTEBOOK.name, budget, progress_bar=False)
    client = MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name(read_parameters(GRID_NOTEBOOK)["EXPERIMENT_NAME"].default)
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    children = sorted(r.info.run_name for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id)
    assert len(children) == len(budget["ALPHAS"])

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with ui_browser.chromium_page() as page:
        ui_browser.open_runs_page(page, mlflow_server, experiment.experiment_id, parent.info.run_name)
        assert ui_browser.visible_run_names(page, children) == []  # collapsed: the children hide under the parent
        ui_browser.expand_parent(page, parent.info.run_name, children)
        assert ui_browser.visible_run_names(page, children) == children
        page.screenshot(path=str(SCREENSHOTS / "run_tree.png"))
        ui_browser.compare_runs(page, children)
        assert "compare-runs" in page.url
        page.screenshot(path=str(SCREENSHOTS / "compare.png"))
    assert Path(SCREENSHOTS / "run_tree.png").stat().st_size > 10_000
