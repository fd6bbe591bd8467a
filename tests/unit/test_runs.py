"""Unit tests of tutorial_utils.runs: the paginated run search and the runs table."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

from tutorial_utils import runs as runs_module
from tutorial_utils.runs import runs_table, search_all_runs, stepped_metric


def _runs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": ["a" * 32, "b" * 32],
            "status": ["FINISHED", "FAILED"],
            "tags.mlflow.runName": ["trial-00", "trial-01"],
            "params.depth": ["4", "6"],
            "params.learning_rate": ["0.123456789", "0.2"],
            "params.bootstrap_type": ["Bernoulli", "Bernoulli"],
            "metrics.val_rmse": [0.0912345, None],
        }
    )


def test_runs_table_keeps_names_status_params_metrics_as_rounded_numbers():
    table = runs_table(_runs(), params=["depth", "learning_rate", "bootstrap_type"], metrics=["val_rmse"])
    assert list(table.columns) == ["run", "status", "depth", "learning_rate", "bootstrap_type", "val_rmse"]
    assert table["depth"].tolist() == [4, 6]
    assert table.loc[0, "learning_rate"] == 0.1235
    assert table["bootstrap_type"].tolist() == ["Bernoulli", "Bernoulli"]
    assert table.loc[0, "val_rmse"] == 0.0912 and pd.isna(table.loc[1, "val_rmse"])


def test_runs_table_names_missing_columns():
    with pytest.raises(KeyError, match=r"params\.subsample"):
        runs_table(_runs(), params=["subsample"], metrics=["val_rmse"])


def test_search_all_runs_follows_the_pages_in_order(fresh_store, monkeypatch):
    uri = f"sqlite:///{fresh_store}/mlflow.db"
    fresh_store.mkdir()
    client = MlflowClient(uri)
    experiment_id = client.create_experiment("paged")
    for number in range(5):
        client.set_terminated(client.create_run(experiment_id, run_name=f"run-{number}").info.run_id)
    client.delete_run(client.create_run(experiment_id, run_name="deleted").info.run_id)
    monkeypatch.setattr(runs_module, "PAGE_SIZE", 2)  # five runs: three pages
    found = search_all_runs(client, [experiment_id])
    assert [run.info.run_name for run in found] == [f"run-{number}" for number in range(5)]
    assert len(search_all_runs(client, [experiment_id], view_type=ViewType.ALL)) == 6
    assert [r.info.run_name for r in search_all_runs(client, [experiment_id], "attributes.run_name = 'run-3'")] == [
        "run-3"
    ]
    mlflow.set_tracking_uri(None)


def test_a_stepped_metric_puts_value_i_at_step_i_or_at_the_given_steps():
    metrics = stepped_metric("curve", [0.3, 0.2, 0.1])
    assert [(m.key, m.value, m.step) for m in metrics] == [("curve", 0.3, 0), ("curve", 0.2, 1), ("curve", 0.1, 2)]
    assert len({m.timestamp for m in metrics}) == 1
    assert [m.step for m in stepped_metric("best", [0.5, 0.4], steps=[3, 7])] == [3, 7]


@pytest.mark.parametrize(
    ("values", "steps", "message"),
    [([], None, "at least one"), ([0.1], [0, 1], "one step per value"), ([float("nan")], None, "finite")],
)
def test_a_stepped_metric_refuses_what_mlflow_could_not_draw(values, steps, message):
    with pytest.raises(ValueError, match=message):
        stepped_metric("curve", values, steps)
