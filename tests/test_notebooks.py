"""Every course notebook, executed headlessly twice on a fresh store; then what it claims is checked there."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from claims import claims_for
from course_tools.notebooks import execute_notebook, read_parameters, small_budget
from course_tools.paths import notebook_paths
from notebook_runs import NotebookRun, printed_text, run_twice, text_outputs
from tutorial_utils.paths import NOTEBOOKS_DIR


@pytest.fixture(scope="module", params=notebook_paths(), ids=lambda p: p.stem)
def notebook_run(request, tmp_path_factory) -> NotebookRun:
    return run_twice(request.param, tmp_path_factory.mktemp(request.param.stem))


def test_notebook_makes_the_claims_it_teaches(notebook_run: NotebookRun):
    mlflow.set_tracking_uri(notebook_run.client.tracking_uri)  # for mlflow.* calls in the claims
    claims_for(notebook_run.path)(notebook_run)


def test_no_run_is_left_running(notebook_run: NotebookRun):
    experiment_ids = [e.experiment_id for e in notebook_run.client.search_experiments()]
    running = notebook_run.client.search_runs(experiment_ids, filter_string="attributes.status = 'RUNNING'")
    assert running == []


def test_rerunning_gives_the_same_outputs(notebook_run: NotebookRun):
    first, second = (text_outputs(nb) for nb in notebook_run.executions)
    assert first == second


def test_notebook_00_logs_to_the_server_named_in_the_environment(mlflow_server, tmp_path, monkeypatch):
    """MLFLOW_TRACKING_URI wins: with it set, the baselines land on the server, not in a local store."""
    path = NOTEBOOKS_DIR / "00_setup_and_baselines.ipynb"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    executed = execute_notebook(path, tmp_path / "00.ipynb", small_budget(path), progress_bar=False)
    client = MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name(read_parameters(path)["EXPERIMENT_NAME"].default)
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.run_name for r in runs) == ["baseline-catboost", "baseline-lasso"]
    printed = printed_text(executed)
    assert f"Tracking to the tracking server at {mlflow_server}" in printed
    assert "View run" not in printed
