"""The checks of notebooks 00 to 02's exercises: runs, parent and child runs, the LASSO grid."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow
import numpy as np
from mlflow.entities import Run

from tutorial_utils.data import linear_features, load_splits, log_price
from tutorial_utils.exercise_store import (
    DONE,
    LESSONS,
    NOT_RIGHT,
    NOT_YET,
    PARENT_TAG,
    StoreView,
    Verdict,
    as_dict,
    names,
    same_number,
)
from tutorial_utils.metrics import rmse

# ---- exercises judged by their runs ----------------------------------------------------------------------------


def _00_2(store: StoreView) -> Verdict:
    baselines = [store.newest("diamonds-price", name) for name in LESSONS["00"].runs]
    if not all(baselines):
        return Verdict("00.2", NOT_YET, "Run the lesson first: the exercise tags its baseline runs.")
    stages = [run.data.tags.get("stage") for run in baselines]
    if stages == [None, None]:
        return Verdict("00.2", NOT_YET)
    if stages == ["baseline", "baseline"]:
        return Verdict("00.2", DONE)
    return Verdict("00.2", NOT_RIGHT, "Both baseline runs of the last execution need the tag `stage` = 'baseline'.")


def _01_1(store: StoreView) -> Verdict:
    runs = store.runs("parent-child-runs")
    parents = [r for r in runs if any("l2_leaf_reg" in c.data.params for c in store.children("parent-child-runs", r))]
    if not parents:
        return Verdict("01.1", NOT_YET)
    parent = parents[-1]
    children = store.children("parent-child-runs", parent)
    values = {float(c.data.params["l2_leaf_reg"]) for c in children if "l2_leaf_reg" in c.data.params}
    if values != {1.0, 10.0, 30.0}:
        return Verdict("01.1", NOT_RIGHT, "The family needs one child per l2_leaf_reg: 1, 10 and 30, and no other.")
    if not all("val_rmse" in c.data.metrics for c in children):
        return Verdict("01.1", NOT_RIGHT, "Every child of the family needs its `val_rmse` metric.")
    if "depth" not in parent.data.params or "l2_leaf_reg" in parent.data.params:
        return Verdict("01.1", NOT_RIGHT, "The parent holds what its children share (the depth); each child its own.")
    return Verdict("01.1", DONE)


def _01_2(store: StoreView) -> Verdict:
    parent_of = {r.info.run_id: r.data.tags.get(PARENT_TAG) for r in store.runs("parent-child-runs")}
    three_levels = any(parent_of.get(parent) for parent in parent_of.values() if parent)
    return Verdict("01.2", DONE if three_levels else NOT_YET)


RUN_CHECKS: dict[str, Callable[[StoreView], Verdict]] = {"00.2": _00_2, "01.1": _01_1, "01.2": _01_2}


# ---- exercises judged by the answer the learner gives to `check_answer` ----------------------------------------

LASSO_MAX_ITER = 10_000  # notebook 00's


def _grid_children(store: StoreView) -> list[Run]:
    return store.children("diamonds-price", store.lesson_run("diamonds-price", "lasso-alpha-grid", "02", "its grid"))


def _child_models(store: StoreView, children: list[Run]) -> dict[float, Any]:
    """Each grid child's model by its alpha, loaded from the logged-model store."""
    ids = ", ".join(f"'{c.info.run_id}'" for c in children)
    models = store.client.search_logged_models([children[0].info.experiment_id], f"source_run_id IN ({ids})")
    alpha = {c.info.run_id: float(c.data.params["alpha"]) for c in children}
    return {alpha[m.source_run_id]: mlflow.sklearn.load_model(m.model_uri) for m in models}


def _00_1(store: StoreView, answer: Any) -> Verdict:
    from sklearn.linear_model import Lasso
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train = load_splits().train
    model = make_pipeline(StandardScaler(), Lasso(alpha=0.1, max_iter=LASSO_MAX_ITER))
    kept = int((model.fit(linear_features(train), log_price(train))[-1].coef_ != 0).sum())
    if same_number(answer, kept):
        return Verdict("00.1", DONE)
    return Verdict("00.1", NOT_RIGHT, "Count the non-zero entries of the fitted Lasso's `coef_` at alpha 0.1.")


def _00_3(store: StoreView, answer: Any) -> Verdict:
    run = store.lesson_run("diamonds-price", "baseline-catboost", "00", "its CatBoost baseline")
    (logged,) = store.client.search_logged_models([run.info.experiment_id], f"source_run_id = '{run.info.run_id}'")
    importances = mlflow.catboost.load_model(logged.model_uri).get_feature_importance(prettified=True)
    if names(answer) == set(importances["Feature Id"].head(3)):
        return Verdict("00.3", DONE)
    return Verdict("00.3", NOT_RIGHT, "Give the three features with the largest importances of the native model.")


def _01_3(store: StoreView, answer: Any) -> Verdict:
    sweep = store.lesson_run("parent-child-runs", "lasso-sweep", "01", "its sweep")
    metrics = [c.data.metrics for c in store.children("parent-child-runs", sweep)]
    best = min(m["val_rmse"] for m in metrics)
    fewest = min(m["n_features"] for m in metrics if m["val_rmse"] <= best + 0.02)
    if same_number(answer, fewest):
        return Verdict("01.3", DONE)
    return Verdict("01.3", NOT_RIGHT, "Give the fewest `n_features` among the children within 0.02 of the best.")


def _02_1(store: StoreView, answer: Any) -> Verdict:
    children = [c for c in _grid_children(store) if c.data.metrics.get("n_nonzero_coefs", 0) > 0]
    sparsest = min(children, key=lambda c: c.data.metrics["n_nonzero_coefs"])
    model = _child_models(store, [sparsest])[float(sparsest.data.params["alpha"])]
    kept = {name for name, coef in zip(model.feature_names_in_, model[-1].coef_, strict=True) if coef != 0}
    if names(answer) == kept:
        return Verdict("02.1", DONE)
    return Verdict("02.1", NOT_RIGHT, "Give the features whose coefficient is not zero in the sparsest child's model.")


def _02_2(store: StoreView, answer: Any) -> Verdict:
    children = _grid_children(store)
    best = min(c.data.metrics["val_rmse"] for c in children)
    wrong = []
    for tolerance in (0.005, 0.05):
        near = [c for c in children if c.data.metrics["val_rmse"] <= best + tolerance]
        sparsest = min(near, key=lambda c: (c.data.metrics["n_nonzero_coefs"], c.data.metrics["val_rmse"]))
        given = as_dict(answer).get(tolerance)
        if not same_number(given, float(sparsest.data.params["alpha"])):
            wrong.append(str(tolerance))
    if not wrong:
        return Verdict("02.2", DONE)
    return Verdict("02.2", NOT_RIGHT, f"The alpha for {' and '.join(wrong)} is not the sparsest child within it.")


def _02_3(store: StoreView, answer: Any) -> Verdict:
    test = load_splits().test
    features, target = linear_features(test), log_price(test)
    scores = {
        alpha: rmse(target, np.asarray(model.predict(features)))
        for alpha, model in _child_models(store, _grid_children(store)).items()
    }
    try:
        given = {float(alpha): value for alpha, value in answer.items()}
    except (AttributeError, TypeError, ValueError):
        given = {}
    if set(given) == set(scores) and all(same_number(given[alpha], scores[alpha], 1e-4) for alpha in scores):
        return Verdict("02.3", DONE)
    return Verdict("02.3", NOT_RIGHT, "Give every child's test_rmse by its alpha, each model scored on the test split.")


ANSWER_CHECKS: dict[str, Callable[[StoreView, Any], Verdict]] = {
    "00.1": _00_1,
    "00.3": _00_3,
    "01.3": _01_3,
    "02.1": _02_1,
    "02.2": _02_2,
    "02.3": _02_3,
}
