"""What notebook 00 claims: two baseline runs per execution, identical numbers, models that load back; exercise 2
tags them `stage = baseline` after they ended, and the exercises log no run. Each model is named after its run;
the CatBoost model also carries `n_trees`, which MLflow linked by itself, without a dataset."""

from __future__ import annotations

import mlflow
import numpy as np

from notebook_runs import NotebookRun
from tutorial_utils import catboost_features, linear_features, load_splits, log_price, rmse


def _model_rmse(run: NotebookRun, run_id: str, features) -> float:
    """Load the model a run logged (from the logged-model store) and score it on the validation split."""
    val = load_splits().val
    predictions = mlflow.pyfunc.load_model(run.logged_model(run_id).model_uri).predict(features(val))
    return rmse(log_price(val), np.asarray(predictions))


def check(run: NotebookRun) -> None:
    params = run.parameters
    runs = run.runs()
    assert sorted(r.info.run_name for r in runs) == ["baseline-catboost"] * 2 + ["baseline-lasso"] * 2
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert {r.data.tags.get("stage") for r in runs} == {"baseline"}
    lasso = [r for r in runs if r.info.run_name == "baseline-lasso"]
    boosted = [r for r in runs if r.info.run_name == "baseline-catboost"]
    assert lasso[0].data.params["alpha"] == str(params["LASSO_ALPHA"])
    assert boosted[0].data.params["iterations"] == str(params["CATBOOST_ITERATIONS"])
    assert boosted[0].data.params["random_seed"] == str(params["SEED"])
    # the same numbers on both executions, and the trees beat the linear model
    assert lasso[0].data.metrics == lasso[1].data.metrics
    assert boosted[0].data.metrics == boosted[1].data.metrics
    lasso_rmse, boosted_rmse = lasso[0].data.metrics["val_rmse"], boosted[0].data.metrics["val_rmse"]
    assert 0.1 < lasso_rmse < 0.3 and boosted_rmse < lasso_rmse
    # each logged model loads back and reproduces its run's metric
    assert np.isclose(_model_rmse(run, lasso[1].info.run_id, linear_features), lasso_rmse)
    assert np.isclose(_model_rmse(run, boosted[1].info.run_id, catboost_features), boosted_rmse)
    assert run.logged_model(lasso[1].info.run_id).name == "baseline-lasso"
    catboost_model = run.logged_model(boosted[1].info.run_id)
    assert catboost_model.name == "baseline-catboost"
    linked = {m.key: m.dataset_name for m in catboost_model.metrics}
    assert linked == {"n_trees": None, "val_rmse": "diamonds-val", "val_rmse_usd": "diamonds-val"}
    assert run.headline() == f"best baseline val_rmse = {boosted_rmse:.4f}"
