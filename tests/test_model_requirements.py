"""The pinned model requirements: installed versions, and a superset of what MLflow would infer."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from catboost import CatBoostRegressor
from sklearn.linear_model import Lasso
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tutorial_utils.model_requirements import FLAVOR_PACKAGES, model_requirements
from tutorial_utils.tracking import setup_tracking

#: What inference lists only because the loading process happened to import it.
BYSTANDERS = {"pytest", "ipywidgets", "psutil"}


def test_requirements_pin_the_installed_versions():
    assert model_requirements("sklearn")[0] == f"scikit-learn=={version('scikit-learn')}"
    assert model_requirements("catboost") == [f"{p}=={version(p)}" for p in FLAVOR_PACKAGES["catboost"]]


def test_unknown_flavor_is_refused():
    with pytest.raises(ValueError, match="no requirements known for flavor 'xgboost'"):
        model_requirements("xgboost")


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
