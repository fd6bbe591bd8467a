"""The checks of notebooks 05 and 07's exercises, on a store with a small LASSO logged as the lessons log theirs:
a wrong answer, or a wrong run, caught with its sentence; a right one done."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
import skops.io
from exercise_runs import log_run
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from sklearn.linear_model import Lasso
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tutorial_utils.data import linear_features, load_splits, log_price
from tutorial_utils.exercises import DONE, NOT_RIGHT, StoreView, Verdict, check_answer, exercise_verdict

REQUIREMENTS = ["scikit-learn"]  # no inference: it takes seconds


def _said(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


@pytest.fixture
def lesson_05(store_for, tmp_path):
    """05's lesson run: a LASSO on standardised features as a logged model, its scaler as a skops artifact."""
    store_for("diamonds-price")
    train = load_splits().train
    raw, target = linear_features(train), log_price(train)
    scaler = StandardScaler().set_output(transform="pandas").fit(raw)
    lasso = Lasso(alpha=0.01).fit(scaler.transform(raw), target)
    skops.io.dump(scaler, tmp_path / "scaler.skops")
    with mlflow.start_run(run_name="lasso-signature-artifacts"):
        scaled = scaler.transform(raw)
        signature = infer_signature(scaled, lasso.predict(scaled))
        mlflow.sklearn.log_model(lasso, name="lasso-standardised", signature=signature, pip_requirements=REQUIREMENTS)
        mlflow.log_artifact(str(tmp_path / "scaler.skops"), artifact_path="preprocessing")
    return raw, scaler, lasso, signature


def _saved(model, path, signature) -> mlflow.pyfunc.PyFuncModel:
    mlflow.sklearn.save_model(model, path, signature=signature, pip_requirements=REQUIREMENTS)
    return mlflow.pyfunc.load_model(path)


def test_a_pipeline_that_still_needs_scaled_features(lesson_05, tmp_path, capsys):
    _, scaler, lasso, signature = lesson_05
    check_answer("05.1", make_pipeline(scaler, lasso))  # not loaded back through MLflow
    check_answer("05.1", _saved(lasso, tmp_path / "lasso", signature))  # the same columns, but scaled ones
    check_answer("05.1", _saved(make_pipeline(scaler, lasso), tmp_path / "pipeline", signature))
    assert _said(capsys) == [
        "Exercise 05.1: not right yet. Give the pipeline loaded back with `mlflow.pyfunc.load_model`.",
        "Exercise 05.1: not right yet. From raw features, the pipeline must predict what the lesson's model does "
        "from scaled ones.",
        "Exercise 05.1: done.",
    ]


def test_an_owner_column_that_is_not_optional(lesson_05, tmp_path, capsys):
    _, _, lasso, signature = lesson_05

    def with_owner(required: bool, columns=signature.inputs.inputs) -> mlflow.models.ModelSignature:
        owner = mlflow.types.ColSpec("double", "owner", required=required)
        return mlflow.models.ModelSignature(mlflow.types.Schema([*columns, owner]), signature.outputs)

    check_answer("05.2", _saved(lasso, tmp_path / "required", with_owner(True)))
    check_answer("05.2", _saved(lasso, tmp_path / "fewer", with_owner(False, signature.inputs.inputs[1:])))
    check_answer("05.2", _saved(lasso, tmp_path / "optional", with_owner(False)))
    assert _said(capsys) == [
        "Exercise 05.2: not right yet. The signature needs a column `owner` of type double that is not required.",
        "Exercise 05.2: not right yet. Beside `owner`, the signature keeps the lesson's columns, each required.",
        "Exercise 05.2: done.",
    ]


def test_a_scaler_logged_without_what_makes_it_a_model(lesson_05):
    raw, scaler, _, _ = lesson_05
    log_run("exercise-scaler-model")
    assert exercise_verdict(StoreView(), "05.3") == Verdict(
        "05.3", NOT_RIGHT, "The run `exercise-scaler-model` has no logged model."
    )
    with mlflow.start_run(run_name="exercise-scaler-model"):
        mlflow.sklearn.log_model(scaler, name="lasso-scaler", pip_requirements=REQUIREMENTS)
    assert exercise_verdict(StoreView(), "05.3") == Verdict("05.3", NOT_RIGHT, "Its logged model needs a signature.")
    with mlflow.start_run(run_name="exercise-scaler-model"):
        signature = infer_signature(raw, scaler.transform(raw))
        mlflow.sklearn.log_model(scaler, name="lasso-scaler", signature=signature, pip_requirements=REQUIREMENTS)
    assert exercise_verdict(StoreView(), "05.3").status == DONE


@pytest.fixture
def registry(store_for):
    """07's registry: a champion (version 1) and a rejected challenger (version 2), each a logged LASSO pipeline."""
    store_for("diamonds-price")
    client, train = MlflowClient(), load_splits().train
    raw, target = linear_features(train), log_price(train)
    client.create_registered_model("diamonds-price")
    for name, alpha in (("catboost-tuned", 0.01), ("lasso-challenger", 0.1)):
        model = make_pipeline(StandardScaler(), Lasso(alpha=alpha)).fit(raw, target)
        with mlflow.start_run(run_name=name):
            info = mlflow.sklearn.log_model(model, name=name, input_example=raw.head(3), pip_requirements=REQUIREMENTS)
        version = client.create_model_version("diamonds-price", f"models:/{info.model_id}", model_id=info.model_id)
        if name == "lasso-challenger":
            client.set_model_version_tag("diamonds-price", version.version, "validation_status", "rejected")
    client.set_registered_model_alias("diamonds-price", "champion", "1")
    return client


def test_the_rejected_versions_and_the_challenger_alias(registry, capsys):
    check_answer("07.1", ["catboost-tuned"])
    check_answer("07.1", ["lasso-challenger"])
    registry.set_registered_model_alias("diamonds-price", "challenger", "2")
    as_challenger = mlflow.pyfunc.load_model("models:/diamonds-price@challenger")
    check_answer("07.2", as_challenger)
    registry.delete_registered_model_alias("diamonds-price", "challenger")
    check_answer("07.2", mlflow.pyfunc.load_model("models:/diamonds-price@champion"))
    check_answer("07.2", as_challenger)
    assert _said(capsys) == [
        "Exercise 07.1: not right yet. Give the names of the logged models behind every rejected version.",
        "Exercise 07.1: done.",
        "Exercise 07.2: not right yet. The alias `challenger` is still set: delete it at the end.",
        "Exercise 07.2: not right yet. Give the model loaded through `@challenger` while it named the challenger.",
        "Exercise 07.2: done.",
    ]


def test_what_the_champions_signature_accepts(registry, capsys):
    champion = mlflow.pyfunc.load_model("models:/diamonds-price@champion")
    rows = linear_features(load_splits().train).head(3)
    prices = np.exp(champion.predict(rows)).round(0).tolist()  # in dollars, as check_in_process gives them
    carat_prices = np.exp(champion.predict(rows.assign(carat=[1.0, *rows["carat"][1:]]))).round(0).tolist()
    check_answer("07.3", {"records": "refused: a dict", "extra column": prices, "carat = 1": carat_prices})
    check_answer("07.3", {"records": prices, "extra column": prices, "carat = 1": carat_prices})
    assert _said(capsys) == [
        "Exercise 07.3: not right yet. The verdict on records is not the signature's.",
        "Exercise 07.3: done.",
    ]
