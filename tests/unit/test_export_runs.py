"""Exporting runs: one CSV per experiment with params, metrics, tags and parent links; clear errors."""

import mlflow
import pandas as pd
import pytest

from course_tools import cli as course
from course_tools.export_runs import experiment_file_name, export_runs
from tutorial_utils import setup_tracking
from tutorial_utils.tracking import local_store_uri


def test_experiment_file_name_is_safe():
    assert experiment_file_name("alice/diamonds-price") == "alice__diamonds-price.csv"
    assert experiment_file_name("///") == "experiment.csv"


def test_export_writes_each_experiment_with_its_runs(fresh_store, tmp_path, capsys):
    setup_tracking("alice/diamonds-price", verbose=False)
    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_param("alpha", 0.1)
        with mlflow.start_run(run_name="child", nested=True):
            mlflow.log_metric("val_rmse", 0.25)
    setup_tracking("empty-experiment", verbose=False)

    summary = export_runs(local_store_uri(), tmp_path / "out")
    assert summary.to_dict("records") == [
        {"experiment": "alice/diamonds-price", "runs": 2, "file": "alice__diamonds-price.csv"}
    ]
    runs = pd.read_csv(tmp_path / "out" / "alice__diamonds-price.csv")
    assert list(runs["run_name"]) == ["parent", "child"]
    assert runs.loc[1, "tags.mlflow.parentRunId"] == parent.info.run_id
    assert runs.loc[0, "params.alpha"] == 0.1 and runs.loc[1, "metrics.val_rmse"] == 0.25
    assert set(runs["status"]) == {"FINISHED"}
    assert (tmp_path / "out" / "experiments.csv").is_file()

    assert course.main(["export", "--out", str(tmp_path / "cli")]) == 0
    assert "2 runs of 1 experiments" in capsys.readouterr().out


def test_export_of_an_empty_store_says_so(fresh_store, tmp_path):
    setup_tracking("nothing-here", verbose=False)
    with pytest.raises(ValueError, match="no runs to export"):
        export_runs(local_store_uri(), tmp_path)
