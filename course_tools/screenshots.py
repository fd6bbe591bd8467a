"""The course's pictures of the MLflow UI: notebooks 02, 04 and 05, each run on a throwaway server, seen in Chromium.

- 02's LASSO grid: its parent expanded in the runs table (`ui_run_tree.png`), and its children compared
  (`ui_compare.png`: parallel coordinates over alpha, n_nonzero_coefs and val_rmse, with the compare tables);
- 04's Optuna study: its trials compared in parallel coordinates (`ui_04_parallel_coordinates.png`);
- 05's run `lasso-signature-artifacts`: its Artifacts tab, with the predictions figure open (`ui_05_artifacts.png`).

MLflow 3.17's compare page draws every parameter on a linear axis (only the line charts of stepped metrics have a
log scale), so in `ui_compare.png` alphas 0.001, 0.01 and 0.1 crowd the foot of the alpha axis: the
n_nonzero_coefs axis next to it spreads the four children apart, and the tables below give each alpha's numbers.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from course_tools.notebooks import execute_notebook, read_parameters, small_budget
from course_tools.paths import DOCS_DIR, environment
from course_tools.ui_browser import ParallelAxes, ParentViews, capture_artifacts, capture_parent_views
from course_tools.workshop.mlflow_server import local_server
from tutorial_utils.paths import NOTEBOOKS_DIR
from tutorial_utils.tracking import quiet_mlflow

PICTURES_DIR = DOCS_DIR / "images"

GRID_NOTEBOOK = NOTEBOOKS_DIR / "02_lasso_grid_child_runs.ipynb"
GRID_PARENT = "lasso-alpha-grid"
#: Hide two attribute columns, show what the grid varies and what it measured.
GRID_COLUMNS = ["Dataset", "Source", "alpha", "val_rmse", "n_nonzero_coefs"]
#: n_nonzero_coefs between alpha and val_rmse: the children's lines part there, where alpha's linear axis cannot.
GRID_AXES = ParallelAxes(params=["alpha"], metrics=["n_nonzero_coefs", "val_rmse"])

TUNING_NOTEBOOK = NOTEBOOKS_DIR / "04_optuna_catboost_tuning.ipynb"
TUNING_PARENT = "catboost-optuna"
#: The study's children are its trials (`trial-00`, ...) and the final refit, `catboost-tuned`: only the trials.
TRIAL_PREFIX = "trial-"
#: The search space, then the score each trial was chosen by.
TUNING_AXES = ParallelAxes(
    params=["depth", "learning_rate", "l2_leaf_reg", "random_strength", "subsample"], metrics=["val_rmse"]
)
#: Enough trials for a picture with a pattern in it, at the small budget's trees per trial (about 30 s).
TUNING_TRIALS = 12

ARTIFACTS_NOTEBOOK = NOTEBOOKS_DIR / "05_signatures_and_artifacts.ipynb"
ARTIFACTS_RUN = "lasso-signature-artifacts"
ARTIFACT_FOLDERS = ["data", "plots", "preprocessing"]
ARTIFACT_PREVIEW = "plots/predictions.png"


@dataclass(frozen=True)
class ParentRuns:
    """The newest run of a given name on a tracking server (a parent), and its children's names."""

    experiment_id: str
    parent_name: str
    child_names: list[str]


def newest_run(tracking_uri: str, notebook: Path, run_name: str, experiment_name: str | None = None) -> Run:
    """The newest run named `run_name` in `experiment_name` (default: the notebook's own EXPERIMENT_NAME), an MLflow
    `Run`; ValueError, naming the notebook to execute, if there is none."""
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name or read_parameters(notebook)["EXPERIMENT_NAME"].default)
    runs = (
        client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.mlflow.runName = '{run_name}'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if experiment
        else []
    )
    if not runs:
        raise ValueError(f"no {run_name!r} run at {tracking_uri}: execute {notebook.name} against it first")
    return runs[0]


def newest_parent(
    tracking_uri: str, notebook: Path, parent_name: str, experiment_name: str | None = None, child_prefix: str = ""
) -> ParentRuns:
    """The newest parent run named `parent_name` (see `newest_run`) and its children whose names start with
    `child_prefix`, sorted by name."""
    parent = newest_run(tracking_uri, notebook, parent_name, experiment_name)
    children = MlflowClient(tracking_uri).search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    names = sorted(c.info.run_name for c in children if c.info.run_name.startswith(child_prefix))
    return ParentRuns(parent.info.experiment_id, parent_name, names)


def newest_grid(tracking_uri: str, experiment_name: str | None = None) -> ParentRuns:
    """Notebook 02's newest grid parent and its children; ValueError if there is none."""
    return newest_parent(tracking_uri, GRID_NOTEBOOK, GRID_PARENT, experiment_name)


def newest_study(tracking_uri: str, experiment_name: str | None = None) -> ParentRuns:
    """Notebook 04's newest study parent and its trials; ValueError if there is none."""
    return newest_parent(tracking_uri, TUNING_NOTEBOOK, TUNING_PARENT, experiment_name, TRIAL_PREFIX)


def grid_views(tracking_uri: str, out_dir: Path, experiment_name: str | None = None) -> tuple[ParentRuns, ParentViews]:
    """Capture the run tree and the comparison of the newest grid on `tracking_uri` into `out_dir`."""
    grid = newest_grid(tracking_uri, experiment_name)
    pictures = (out_dir / "ui_run_tree.png", out_dir / "ui_compare.png")
    views = capture_parent_views(
        tracking_uri, grid.experiment_id, grid.parent_name, grid.child_names, pictures, GRID_COLUMNS, GRID_AXES
    )
    return grid, views


def study_view(tracking_uri: str, out_dir: Path, experiment_name: str | None = None) -> tuple[ParentRuns, ParentViews]:
    """Capture the trials of the newest study on `tracking_uri`, compared in parallel coordinates, into `out_dir`."""
    study = newest_study(tracking_uri, experiment_name)
    pictures = (None, out_dir / "ui_04_parallel_coordinates.png")
    views = capture_parent_views(
        tracking_uri, study.experiment_id, study.parent_name, study.child_names, pictures, [], TUNING_AXES, False
    )
    return study, views


def artifacts_view(tracking_uri: str, out_dir: Path, experiment_name: str | None = None) -> Path:
    """Capture the Artifacts tab of notebook 05's newest `lasso-signature-artifacts` run into `out_dir`."""
    run = newest_run(tracking_uri, ARTIFACTS_NOTEBOOK, ARTIFACTS_RUN, experiment_name)
    return capture_artifacts(
        tracking_uri,
        run.info.experiment_id,
        run.info.run_id,
        ARTIFACT_FOLDERS,
        ARTIFACT_PREVIEW,
        out_dir / "ui_05_artifacts.png",
    )


def tuning_budget() -> dict[str, Any]:
    """Notebook 04 for its picture: the small budget, but `TUNING_TRIALS` trials."""
    return small_budget(TUNING_NOTEBOOK) | {"N_TRIALS": TUNING_TRIALS}


@contextmanager
def executed_on_server(notebook: Path, parameters: dict[str, Any] | None = None) -> Iterator[str]:
    """A throwaway local server on which `notebook` has just been executed (with `parameters`); yields its URI."""
    with tempfile.TemporaryDirectory() as scratch, local_server(f"sqlite:///{scratch}/mlflow.db", Path(scratch)) as uri:
        with environment(MLFLOW_TRACKING_URI=uri):
            execute_notebook(notebook, Path(scratch) / notebook.name, parameters or {}, progress_bar=False)
        yield uri


@dataclass(frozen=True)
class Screenshots:
    """What `make_screenshots` saw: notebook 02's grid in the UI, and every picture it saved."""

    grid: ParentViews
    pictures: list[Path]


def make_screenshots(out_dir: Path = PICTURES_DIR) -> Screenshots:
    """Execute notebooks 02 and 05 (full budget) and 04 (`tuning_budget`), each on a server of its own so that each
    picture shows only its notebook's runs, and capture them in the UI into `out_dir`."""
    quiet_mlflow()
    with executed_on_server(GRID_NOTEBOOK) as uri:
        grid = grid_views(uri, out_dir)[1]
    with executed_on_server(TUNING_NOTEBOOK, tuning_budget()) as uri:
        study = study_view(uri, out_dir)[1]
    with executed_on_server(ARTIFACTS_NOTEBOOK) as uri:
        artifacts = artifacts_view(uri, out_dir)
    return Screenshots(grid, [*grid.pictures, *study.pictures, artifacts])
