"""What notebook 05 claims: one run per execution holding a signed model, its input example, the scaler,
the figure and the data card; the scaler reloads and transforms like a fresh one; the signature is enforced.
Exercise 3's solution adds one run per execution, holding the scaler as a model of its own.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import skops.io
from mlflow.exceptions import MlflowException
from sklearn.preprocessing import StandardScaler

from notebook_runs import NotebookRun
from tutorial_utils import FEATURES, linear_features, load_splits
from tutorial_utils.artifacts import read_json
from tutorial_utils.data import CLEANING_RULE, DIAMONDS_SHA256

RUN_NAME = "lasso-signature-artifacts"
EXERCISE_RUN_NAME = "exercise-scaler-model"
ARTIFACTS = ["data/data_card.json", "plots/predictions.png", "preprocessing/scaler.skops"]


def _artifact_paths(run: NotebookRun, run_id: str) -> list[str]:
    """Every file the run logged as an artifact (models live in the logged-model store, not here)."""
    paths, folders = [], [None]
    while folders:
        for item in run.client.list_artifacts(run_id, folders.pop()):
            (folders if item.is_dir else paths).append(item.path)
    return sorted(paths)


def check(run: NotebookRun) -> None:
    params = run.parameters
    all_runs = run.runs()
    runs = [r for r in all_runs if not r.info.run_name.startswith("exercise-")]
    exercise_runs = [r for r in all_runs if r.info.run_name.startswith("exercise-")]
    # two executions, two runs with the same params and metrics; nothing else in the experiment but the exercise's
    assert [r.info.run_name for r in runs] == [RUN_NAME] * 2
    assert [r.info.run_name for r in exercise_runs] == [EXERCISE_RUN_NAME] * 2
    assert {r.info.status for r in exercise_runs} == {"FINISHED"}
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert runs[0].data.params == runs[1].data.params
    assert runs[0].data.metrics == runs[1].data.metrics
    latest = runs[1]
    assert latest.data.params["alpha"] == str(params["ALPHA"])
    splits = load_splits()
    assert {part: int(latest.data.params[f"rows_{part}"]) for part in ("train", "val", "test")} == (
        splits.sizes().to_dict()
    )
    val_rmse = latest.data.metrics["val_rmse"]
    assert 0.1 < val_rmse < 0.3
    assert run.headline() == f"LASSO val_rmse = {val_rmse:.4f}"

    # one logged model per run, with a signature listing every feature and its type, and an input example
    experiment_id = run.experiment().experiment_id
    every_model = mlflow.search_logged_models(experiment_ids=[experiment_id], output_format="list")
    models = [m for m in every_model if m.source_run_id in {r.info.run_id for r in runs}]
    assert sorted(m.source_run_id for m in models) == sorted(r.info.run_id for r in runs)
    assert {m.name for m in models} == {"lasso-standardised"}
    model_uri = next(m.model_uri for m in models if m.source_run_id == latest.info.run_id)
    info = mlflow.models.get_model_info(model_uri)
    inputs = info.signature.inputs.to_dict()
    assert [(c["name"], c["type"], c["required"]) for c in inputs] == [(f, "double", True) for f in FEATURES]
    assert info.saved_input_example_info["artifact_path"] == "input_example.json"
    model = mlflow.pyfunc.load_model(model_uri)
    example = model.input_example
    assert isinstance(example, pd.DataFrame) and list(example.columns) == FEATURES and len(example) == 3

    # the run's own artifacts: scaler, figure, data card
    assert _artifact_paths(run, latest.info.run_id) == ARTIFACTS
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(mlflow.artifacts.download_artifacts(run_id=latest.info.run_id, dst_path=scratch))
        scaler_file = local / "preprocessing" / "scaler.skops"
        assert skops.io.get_untrusted_types(file=scaler_file) == []
        scaler = skops.io.load(scaler_file)
        card = read_json(local / "data" / "data_card.json")
        assert (local / "plots" / "predictions.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    X_train, X_val = linear_features(splits.train), linear_features(splits.val)
    fresh = StandardScaler().fit(X_train)
    assert np.array_equal(np.asarray(scaler.transform(X_val)), fresh.transform(X_val))
    assert card == {
        "features": dict.fromkeys(FEATURES, "float64"),
        "cleaning": CLEANING_RULE,
        "split_sizes": splits.sizes().to_dict(),
        "data_sha256": DIAMONDS_SHA256,
    }

    # the model predicts through its scaler as the notebook says, and the signature is enforced
    scaled = pd.DataFrame(fresh.transform(X_val.head(5)), columns=FEATURES)
    assert np.isfinite(model.predict(scaled)).all()
    with pytest.raises(MlflowException, match="missing inputs"):
        model.predict(scaled.drop(columns=["carat"]))

    # exercise 3: each exercise run holds the scaler as a model with the sklearn flavor only (no predict, no pyfunc)
    scaler_models = [m for m in every_model if m.source_run_id in {r.info.run_id for r in exercise_runs}]
    assert sorted(m.source_run_id for m in scaler_models) == sorted(r.info.run_id for r in exercise_runs)
    assert {m.name for m in scaler_models} == {"lasso-scaler"}
    assert sorted(mlflow.models.get_model_info(scaler_models[-1].model_uri).flavors) == ["sklearn"]
    assert len(every_model) == len(models) + len(scaler_models)
