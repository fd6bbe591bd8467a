"""The checks of the model notebooks' exercises: signatures and artifacts (05), the registry and serving (07).
Each loads what the lesson logged (a model, its scaler, a registered version) and compares the learner's answer."""

from __future__ import annotations

import json
import logging
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities import Run

from tutorial_utils.data import linear_features, load_splits
from tutorial_utils.exercise_store import DONE, NOT_RIGHT, NOT_YET, StoreView, Verdict, as_dict, names
from tutorial_utils.serving import registered_model_name

if TYPE_CHECKING:
    from sklearn.preprocessing import StandardScaler

# The model libraries (mlflow.pyfunc, mlflow.models, scikit-learn, skops) are imported in the checks that use them,
# not at import: `import tutorial_utils` stays light.

MODELS_EXPERIMENT, REGISTERED_MODEL = "diamonds-price", "diamonds-price"


# ---- 05: signatures and artifacts ------------------------------------------------------------------------------


def _run_models(store: StoreView, run: Run) -> list[Any]:
    return store.client.search_logged_models([run.info.experiment_id], f"source_run_id = '{run.info.run_id}'")


def _lesson_model(store: StoreView) -> tuple[mlflow.pyfunc.PyFuncModel, StandardScaler]:
    """Notebook 05's LASSO (on standardised features) and its fitted scaler, both read back from the lesson's run."""
    run = store.lesson_run(MODELS_EXPERIMENT, "lasso-signature-artifacts", "05", "its model and scaler")
    import skops.io  # it loads every scikit-learn module, to list the types it trusts

    (logged,) = _run_models(store, run)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(
            mlflow.artifacts.download_artifacts(f"{run.info.artifact_uri}/preprocessing/scaler.skops", dst_path=scratch)
        )
        scaler = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))  # the course's own file
    return mlflow.pyfunc.load_model(logged.model_uri), scaler


def _rows() -> pd.DataFrame:
    """Three validation rows, raw, for a scaler to standardise."""
    return linear_features(load_splits().val).head(3)


def _standardised(scaler: StandardScaler, raw: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(np.asarray(scaler.transform(raw)), columns=raw.columns, index=raw.index)


def _05_1(store: StoreView, answer: Any) -> Verdict:
    model, scaler = _lesson_model(store)
    if not isinstance(answer, mlflow.pyfunc.PyFuncModel):
        return Verdict("05.1", NOT_RIGHT, "Give the pipeline loaded back with `mlflow.pyfunc.load_model`.")
    raw = _rows()
    schema = answer.metadata.get_input_schema()
    if schema is None or schema.input_names() != list(raw.columns):
        return Verdict("05.1", NOT_RIGHT, "The saved pipeline needs a signature with the raw features' columns.")
    if not np.allclose(answer.predict(raw), model.predict(_standardised(scaler, raw))):
        return Verdict(
            "05.1",
            NOT_RIGHT,
            "From raw features, the pipeline must predict what the lesson's model does from scaled ones.",
        )
    return Verdict("05.1", DONE)


def _05_2(store: StoreView, answer: Any) -> Verdict:
    model, scaler = _lesson_model(store)
    if not isinstance(answer, mlflow.pyfunc.PyFuncModel) or answer.metadata.get_input_schema() is None:
        return Verdict("05.2", NOT_RIGHT, "Give the LASSO saved with the new signature, loaded with `mlflow.pyfunc`.")
    columns = {c.name: c for c in answer.metadata.get_input_schema().inputs}
    owner = columns.pop("owner", None)
    if owner is None or owner.required or getattr(owner.type, "name", None) != "double":
        return Verdict("05.2", NOT_RIGHT, "The signature needs a column `owner` of type double that is not required.")
    lesson = model.metadata.get_input_schema().input_names()
    if sorted(columns) != sorted(lesson) or not all(c.required for c in columns.values()):
        return Verdict("05.2", NOT_RIGHT, "Beside `owner`, the signature keeps the lesson's columns, each required.")
    scaled = _standardised(scaler, _rows())
    if not np.allclose(answer.predict(scaled), model.predict(scaled)):
        return Verdict("05.2", NOT_RIGHT, "Without `owner`, the model must predict what the lesson's model does.")
    return Verdict("05.2", DONE)


def _05_3(store: StoreView) -> Verdict:
    run = store.newest(MODELS_EXPERIMENT, "exercise-scaler-model")
    if run is None:
        return Verdict("05.3", NOT_YET)
    logged = _run_models(store, run)
    if not logged:
        return Verdict("05.3", NOT_RIGHT, "The run `exercise-scaler-model` has no logged model.")
    info = mlflow.models.get_model_info(logged[-1].model_uri)
    if "sklearn" not in info.flavors:
        return Verdict("05.3", NOT_RIGHT, "Its logged model needs the sklearn flavor, to load the scaler back as one.")
    if info.signature is None:
        return Verdict("05.3", NOT_RIGHT, "Its logged model needs a signature.")
    from sklearn.preprocessing import StandardScaler

    if not isinstance(mlflow.sklearn.load_model(logged[-1].model_uri), StandardScaler):
        return Verdict("05.3", NOT_RIGHT, "Its logged model is not a fitted StandardScaler.")
    return Verdict("05.3", DONE)


# ---- 07: the registry and serving ------------------------------------------------------------------------------


def _rejected(store: StoreView) -> list[Any]:
    name = registered_model_name(REGISTERED_MODEL)
    if not store.client.search_registered_models(filter_string=f"name = '{name}'"):
        raise LookupError("Run notebook 07's lesson first: the answer is checked against its registered model.")
    return store.client.search_model_versions(f"name = '{name}' AND tag.validation_status = 'rejected'")


def _logged_model_id(version: Any) -> str:
    return version.source.removeprefix("models:/")  # a version's own `model_id` stays empty on a local store


def _07_1(store: StoreView, answer: Any) -> Verdict:
    behind = {store.client.get_logged_model(_logged_model_id(v)).name for v in _rejected(store)}
    if names(answer) == behind:
        return Verdict("07.1", DONE)
    return Verdict("07.1", NOT_RIGHT, "Give the names of the logged models behind every rejected version.")


def _07_2(store: StoreView, answer: Any) -> Verdict:
    rejected = _rejected(store)
    name = registered_model_name(REGISTERED_MODEL)
    if "challenger" in store.client.get_registered_model(name).aliases:
        return Verdict("07.2", NOT_RIGHT, "The alias `challenger` is still set: delete it at the end.")
    newest = max(rejected, key=lambda v: int(v.version))
    if not isinstance(answer, mlflow.pyfunc.PyFuncModel) or answer.metadata.model_id != _logged_model_id(newest):
        return Verdict("07.2", NOT_RIGHT, "Give the model loaded through `@challenger` while it named the challenger.")
    return Verdict("07.2", DONE)


def _payloads(example: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Exercise 07.3's payloads, built from a model's `dataframe_split` serving example."""
    columns, data = example["dataframe_split"]["columns"], example["dataframe_split"]["data"]
    return {
        "records": {"dataframe_records": [dict(zip(columns, row, strict=True)) for row in data]},
        "extra column": {"dataframe_split": {"columns": [*columns, "price"], "data": [[*row, 1000] for row in data]}},
        "carat = 1": {"dataframe_split": {"columns": columns, "data": [[1, *data[0][1:]], *data[1:]]}},
    }


def _07_3(store: StoreView, answer: Any) -> Verdict:
    from mlflow.models import validate_serving_input
    from mlflow.models.utils import load_serving_example

    _rejected(store)  # the lesson has run
    uri = f"models:/{registered_model_name(REGISTERED_MODEL)}@champion"
    payloads = _payloads(json.loads(load_serving_example(uri)))
    signature_log = logging.getLogger("mlflow.models.utils")
    level = signature_log.level
    signature_log.setLevel(logging.ERROR)  # its warning about the extra column
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # validate_serving_input's deprecation
            truth = {what: np.exp(validate_serving_input(uri, p)) for what, p in payloads.items()}
    finally:
        signature_log.setLevel(level)
    given = as_dict(answer)
    wrong = [what for what in payloads if not _same_prices(given.get(what), truth[what])]
    if not wrong:
        return Verdict("07.3", DONE)
    return Verdict("07.3", NOT_RIGHT, f"The verdict on {', '.join(wrong)} is not the signature's.")


def _same_prices(given: Any, truth: np.ndarray) -> bool:
    try:
        return bool(np.allclose(np.asarray(given, dtype=float), truth, atol=0.5))
    except (TypeError, ValueError):
        return False


RUN_CHECKS: dict[str, Callable[[StoreView], Verdict]] = {"05.3": _05_3}
ANSWER_CHECKS: dict[str, Callable[[StoreView, Any], Verdict]] = {
    "05.1": _05_1,
    "05.2": _05_2,
    "07.1": _07_1,
    "07.2": _07_2,
    "07.3": _07_3,
}
