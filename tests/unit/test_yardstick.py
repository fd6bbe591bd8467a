"""The yardstick: its two workloads, the sentence it prints, and its command line."""

from __future__ import annotations

import mlflow
import pytest

from benchmarks import yardstick
from benchmarks.yardstick import Yardstick, child_run_seconds, fit_seconds
from tutorial_utils.tracking import setup_tracking


def test_child_runs_are_children_of_one_parent(fresh_store):
    experiment = setup_tracking("yardstick-test", verbose=False)
    assert len(child_run_seconds(3)) == 3
    runs = mlflow.search_runs(experiment_ids=[experiment.experiment_id])
    parents = runs[runs["tags.mlflow.runName"] == "yardstick-child-runs"]
    assert len(parents) == 1 and (runs["tags.mlflow.parentRunId"] == parents["run_id"].iloc[0]).sum() == 3
    assert set(runs["status"]) == {"FINISHED"}


@pytest.mark.parametrize(
    ("call", "message"), [(lambda: child_run_seconds(0), "n_children"), (lambda: fit_seconds(0), "repeats")]
)
def test_workloads_refuse_nothing_to_time(call, message):
    with pytest.raises(ValueError, match=f"{message} must be at least 1"):
        call()


def test_describe_names_both_workloads():
    text = Yardstick(fit_s=1.234, child_run_ms=15.25).describe()
    assert "a fixed CatBoost fit (200 trees, 20,000 rows, 2 threads) 1.23 s" in text
    assert text.endswith("a child run on a fresh SQLite store 15.2 ms")


def test_cli_refuses_unknown_options():
    with pytest.raises(SystemExit, match="unknown"):
        yardstick.main(["--fast"])
