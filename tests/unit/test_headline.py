import time

import pytest
from mlflow.tracking import MlflowClient
from nbformat.v4 import new_notebook

from course_tools.headline import Headline, headline_of, read_headline

BASELINES = Headline("best baseline val_rmse", "val_rmse", "tags.mlflow.runName LIKE 'baseline-%'", "min")


def _run(client, experiment_id, name, **metrics):
    run = client.create_run(experiment_id, run_name=name)
    for key, value in metrics.items():
        client.log_metric(run.info.run_id, key, value)
    client.set_terminated(run.info.run_id)
    time.sleep(0.01)  # distinct start times: "newest" is well defined


@pytest.fixture
def client(tmp_path):
    return MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")


def test_the_headline_is_the_picked_metric_of_the_matching_runs(client):
    experiment = client.create_experiment("diamonds")
    _run(client, experiment, "baseline-lasso", val_rmse=0.15)
    _run(client, experiment, "baseline-catboost", val_rmse=0.0942)
    _run(client, experiment, "other", val_rmse=0.01)  # not named by the filter
    _run(client, experiment, "baseline-empty")  # no metric: skipped
    assert read_headline(BASELINES, client, "diamonds", since_ms=0) == "best baseline val_rmse = 0.0942"
    newest = Headline("lasso", "val_rmse", "tags.mlflow.runName = 'baseline-lasso'", "newest")
    _run(client, experiment, "baseline-lasso", val_rmse=0.25)
    assert read_headline(newest, client, "diamonds", since_ms=0) == "lasso = 0.2500"


def test_only_runs_of_this_execution_and_this_experiment_count(client):
    old = client.create_experiment("diamonds")
    _run(client, old, "baseline-lasso", val_rmse=0.01)
    since = int(time.time() * 1000)
    _run(client, client.create_experiment("diamonds-other"), "baseline-lasso", val_rmse=0.02)
    assert read_headline(BASELINES, client, "diamonds", since) is None
    _run(client, client.create_experiment("alice/diamonds"), "baseline-lasso", val_rmse=0.3)  # a workshop attendee's
    assert read_headline(BASELINES, client, "diamonds", since) == "best baseline val_rmse = 0.3000"
    assert read_headline(BASELINES, client, "missing", since) is None


def test_the_notebook_metadata_names_the_headline():
    spec = {"label": "test_rmse", "metric": "test_rmse", "filter": "tags.mlflow.runName = 'x'", "pick": "newest"}
    notebook = new_notebook(metadata={"course": {"headline": spec}})
    assert headline_of(notebook) == Headline(**spec)
    assert headline_of(new_notebook()) is None
    notebook.metadata.course.headline.pick = "max"
    with pytest.raises(ValueError, match="'min' or 'newest', not 'max'"):
        headline_of(notebook)
