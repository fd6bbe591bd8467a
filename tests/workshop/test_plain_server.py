"""Notebooks and the tracking helpers against a plain local `mlflow server`: MLFLOW_TRACKING_URI wins."""

import mlflow
from mlflow.tracking import MlflowClient

from course_tools.notebooks import execute_notebook, small_budget
from notebook_runs import printed_text
from tutorial_utils import tracking
from tutorial_utils.paths import NOTEBOOKS_DIR


def test_runs_go_to_the_server_named_in_the_environment(mlflow_server, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    experiment = tracking.setup_tracking("course-test")
    with mlflow.start_run(run_name="on-the-server") as run:
        mlflow.log_metric("val_rmse", 0.5)
    stored = MlflowClient(mlflow_server).get_run(run.info.run_id)
    assert stored.info.experiment_id == experiment.experiment_id
    assert stored.data.metrics == {"val_rmse": 0.5}
    output = capsys.readouterr().out
    assert f"the tracking server at {mlflow_server}" in output
    assert "View run" not in output  # the run link MLflow prints for HTTP stores is suppressed


def test_notebook_00_logs_to_the_server_named_in_the_environment(mlflow_server, tmp_path, monkeypatch):
    """MLFLOW_TRACKING_URI wins: with it set, the baselines land on the server, not in a local store."""
    path = NOTEBOOKS_DIR / "00_setup_and_baselines.ipynb"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    parameters = small_budget(path) | {"EXPERIMENT_NAME": "server-test-baselines"}  # this test's own experiment
    executed = execute_notebook(path, tmp_path / "00.ipynb", parameters, progress_bar=False)
    client = MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name("server-test-baselines")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.run_name for r in runs) == ["baseline-catboost", "baseline-lasso"]
    printed = printed_text(executed)
    assert f"Tracking to the tracking server at {mlflow_server}" in printed
    assert "View run" not in printed
