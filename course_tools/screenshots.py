"""The README's pictures of the MLflow UI: notebook 02's LASSO grid, run on a throwaway server, seen in Chromium."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow.tracking import MlflowClient

from course_tools.notebooks import execute_notebook, read_parameters
from course_tools.paths import DOCS_DIR, environment
from course_tools.ui_browser import ParentViews, capture_parent_views
from course_tools.workshop.mlflow_server import local_server
from tutorial_utils.paths import NOTEBOOKS_DIR
from tutorial_utils.tracking import quiet_mlflow

GRID_NOTEBOOK = NOTEBOOKS_DIR / "02_lasso_grid_child_runs.ipynb"
GRID_PARENT = "lasso-alpha-grid"
#: Hide two attribute columns, show what the grid varies and what it measured.
GRID_COLUMNS = ["Dataset", "Source", "alpha", "val_rmse", "n_nonzero_coefs"]
PICTURES_DIR = DOCS_DIR / "images"


@dataclass(frozen=True)
class GridRuns:
    """The newest grid parent of notebook 02 on a tracking server, and its children's names."""

    experiment_id: str
    parent_name: str
    child_names: list[str]


def newest_grid(tracking_uri: str, experiment_name: str | None = None) -> GridRuns:
    """Find notebook 02's newest grid parent and its children in `experiment_name` (default: the notebook's own
    EXPERIMENT_NAME); ValueError if there is none."""
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(
        experiment_name or read_parameters(GRID_NOTEBOOK)["EXPERIMENT_NAME"].default
    )
    parents = (
        client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.mlflow.runName = '{GRID_PARENT}'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if experiment
        else []
    )
    if not parents:
        raise ValueError(f"no {GRID_PARENT!r} run at {tracking_uri}: execute {GRID_NOTEBOOK.name} against it first")
    children = client.search_runs(
        [experiment.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parents[0].info.run_id}'"
    )
    return GridRuns(experiment.experiment_id, GRID_PARENT, sorted(c.info.run_name for c in children))


def grid_views(tracking_uri: str, out_dir: Path, experiment_name: str | None = None) -> tuple[GridRuns, ParentViews]:
    """Capture the run tree and the compare view of the newest grid on `tracking_uri` into `out_dir`."""
    grid = newest_grid(tracking_uri, experiment_name)
    views = capture_parent_views(
        tracking_uri, grid.experiment_id, grid.parent_name, grid.child_names, out_dir, GRID_COLUMNS
    )
    return grid, views


def make_screenshots(out_dir: Path = PICTURES_DIR, parameters: dict[str, Any] | None = None) -> ParentViews:
    """Execute notebook 02 (full budget by default) on a throwaway local server and capture its grid in the UI."""
    quiet_mlflow()
    with tempfile.TemporaryDirectory() as scratch, local_server(f"sqlite:///{scratch}/mlflow.db", Path(scratch)) as uri:
        with environment(MLFLOW_TRACKING_URI=uri):
            execute_notebook(GRID_NOTEBOOK, Path(scratch) / GRID_NOTEBOOK.name, parameters or {}, progress_bar=False)
        return grid_views(uri, out_dir)[1]
