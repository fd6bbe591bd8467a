"""What takes real processes or MLflow's own model logging (seconds each): the store under concurrent first use,
the yardstick in its own process, and the model requirements against what MLflow infers."""

from __future__ import annotations

import multiprocessing
from importlib.metadata import version
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from catboost import CatBoostRegressor
from mlflow.tracking import MlflowClient
from sklearn.linear_model import Lasso
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmarks import yardstick
from tutorial_utils import tracking
from tutorial_utils.model_requirements import FLAVOR_PACKAGES, model_requirements
from tutorial_utils.tracking import setup_tracking

#: What inference lists only because the loading process happened to import it.
BYSTANDERS = {"pytest", "ipywidgets", "psutil"}


def _setup_in_another_process(name: str) -> str:
    return tracking.setup_tracking(name, verbose=False).experiment_id


def test_concurrent_first_use_of_a_fresh_store_is_safe(fresh_store):
    """Four processes set up one new experiment on one fresh store at once: one store, one experiment."""
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        ids = pool.map(_setup_in_another_process, ["shared"] * 4)
    assert len(set(ids)) == 1 and ids[0] != "0"
    client = MlflowClient(tracking.local_store_uri())
    assert [e.name for e in client.search_experiments()] == ["shared", "Default"]


def test_quick_measure_in_its_own_process_leaves_this_one_alone(fresh_store):
    before = mlflow.get_tracking_uri()
    stick = yardstick.measure_elsewhere(quick=True)
    assert stick.fit_s > 0 and stick.child_run_ms > 0
    assert mlflow.get_tracking_uri() == before


def _requirements_file(model_uri: str) -> list[str]:
    folder = mlflow.artifacts.download_artifacts(model_uri)
    return [line for line in Path(folder, "requirements.txt").read_text().splitlines() if line]


@pytest.mark.parametrize("flavor", sorted(FLAVOR_PACKAGES))
def test_pins_cover_what_mlflow_infers(fresh_store, flavor):
    """Logs the same model twice, inferred and pinned: the pins leave out only the bystanders."""
    setup_tracking("requirements", verbose=False)
    X = pd.DataFrame(np.random.default_rng(0).random((50, 3)), columns=["a", "b", "c"])
    y = X.sum(axis=1)
    if flavor == "sklearn":
        model, log_model = make_pipeline(StandardScaler(), Lasso()).fit(X, y), mlflow.sklearn.log_model
    else:
        model = CatBoostRegressor(iterations=5, verbose=False, allow_writing_files=False).fit(X, y)
        log_model = mlflow.catboost.log_model
    with mlflow.start_run():
        inferred = _requirements_file(log_model(model, name="inferred", input_example=X.head(2)).model_uri)
        pinned = log_model(model, name="pinned", input_example=X.head(2), pip_requirements=model_requirements(flavor))
    pinned_lines = _requirements_file(pinned.model_uri)
    assert pinned_lines[0] == f"mlflow=={version('mlflow')}"
    missing = {line.split("==")[0] for line in inferred} - {line.split("==")[0] for line in pinned_lines}
    assert missing <= BYSTANDERS
