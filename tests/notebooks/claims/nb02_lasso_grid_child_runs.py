"""What notebook 02 claims: one grid parent per execution with one FINISHED child per alpha, the parent's best
alpha the argmin of its children's val_rmse, children's models (named after their alpha) that load and predict,
identical numbers on both executions; then autolog's grid (one child per alpha), the mixed run that autolog
doubled, and the stray run of a bare fit, deleted."""

from __future__ import annotations

import mlflow
import numpy as np
from mlflow.entities import Run, ViewType

from notebook_runs import NotebookRun
from tutorial_utils import linear_features, load_splits, log_price, rmse
from tutorial_utils.runs import search_all_runs


def _check_grid(run: NotebookRun, runs: list[Run], parent: Run) -> dict[float, Run]:
    """One execution's grid: its children (by alpha), their params and metrics, the parent's best and figure."""
    alphas = sorted(float(alpha) for alpha in run.parameters["ALPHAS"])
    children = _children(runs, parent)
    assert len(children) == len(alphas), f"expected {len(alphas)} children, found {len(children)}"
    by_alpha = {float(child.data.params["alpha"]): child for child in children}
    assert sorted(by_alpha) == alphas
    for alpha, child in by_alpha.items():
        assert child.info.status == "FINISHED"
        assert child.info.run_name == f"lasso-alpha-{alpha:g}"
        assert {"val_rmse", "n_nonzero_coefs"} <= set(child.data.metrics)
    best_alpha = min(by_alpha, key=lambda alpha: by_alpha[alpha].data.metrics["val_rmse"])
    assert parent.info.status == "FINISHED"
    assert float(parent.data.params["best_alpha"]) == best_alpha
    assert parent.data.metrics["best_val_rmse"] == by_alpha[best_alpha].data.metrics["val_rmse"]
    assert parent.data.params["n_alphas"] == str(len(alphas))
    assert [c.info.run_name for c in children if c.data.tags.get("best_in_grid") == "true"] == [
        f"lasso-alpha-{best_alpha:g}"
    ]
    assert [f.path for f in run.client.list_artifacts(parent.info.run_id, "figures")] == ["figures/alpha_path.png"]
    return by_alpha


def _check_the_null_model_and_sparsity(children: dict[float, Run]) -> None:
    """Alpha 1 is the null model (no coefficient, val_rmse about 1); weaker penalties keep more and err less."""
    path = [children[alpha].data.metrics for alpha in sorted(children, reverse=True)]
    if 1.0 in children:
        assert children[1.0].data.metrics["n_nonzero_coefs"] == 0
        assert 0.95 < children[1.0].data.metrics["val_rmse"] < 1.1
    assert [m["n_nonzero_coefs"] for m in path] == sorted(m["n_nonzero_coefs"] for m in path)
    assert [m["val_rmse"] for m in path] == sorted((m["val_rmse"] for m in path), reverse=True)


def _check_models_predict(run: NotebookRun, children: dict[float, Run]) -> None:
    """Every child's model loads from the logged-model store and reproduces its val_rmse."""
    val = load_splits().val
    features, target = linear_features(val), log_price(val)
    for alpha, child in children.items():
        logged = run.logged_model(child.info.run_id)
        assert logged.name == f"lasso-alpha-{alpha:g}".replace(".", "_")
        model = mlflow.pyfunc.load_model(logged.model_uri)
        assert np.isclose(rmse(target, np.asarray(model.predict(features))), child.data.metrics["val_rmse"])


def _children(runs: list[Run], parent: Run) -> list[Run]:
    return [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]


def _check_autolog(run: NotebookRun, runs: list[Run], n_alphas: int) -> int:
    """Section 9, per execution: autolog's grid (a child per alpha, CV scores), a hand-written child that autolog
    doubled (its params, and training scores linked to its model), a stray run deleted. Returns their run count."""
    autolog = [r for r in runs if r.info.run_name == "lasso-alpha-grid-autolog"]
    mixed = [r for r in runs if r.info.run_name == "lasso-alpha-grid-mixed"]
    assert len(autolog) == len(mixed) == 2
    for parent in autolog:
        children = _children(runs, parent)
        assert len(children) == n_alphas
        assert all("mean_test_score" in c.data.metrics for c in children)
        assert "best_lasso__alpha" in parent.data.params
    for parent in mixed:
        (child,) = _children(runs, parent)
        assert {"model", "alpha", "max_iter"} < set(child.data.params) and "lasso__alpha" in child.data.params
        assert "training_score" in {m.key for m in run.logged_model(child.info.run_id).metrics}
    experiment_id = run.experiment().experiment_id
    deleted = search_all_runs(run.client, [experiment_id], view_type=ViewType.DELETED_ONLY)
    assert len(deleted) == 2 and all("mlflow.parentRunId" not in r.data.tags for r in deleted), "the bare fits' runs"
    return 2 * (1 + n_alphas) + 2 * 2


def check(run: NotebookRun) -> None:
    runs = run.runs()
    assert {r.info.status for r in runs} == {"FINISHED"}, "no run may be left RUNNING (or FAILED)"
    parents = [r for r in runs if r.info.run_name == "lasso-alpha-grid"]
    assert len(parents) == 2, "each execution adds one grid parent"
    assert all("mlflow.parentRunId" not in p.data.tags for p in parents)
    assert not [r for r in runs if "best_model" in r.data.tags], "best_model is notebook 04's tag"
    first, second = (_check_grid(run, runs, parent) for parent in parents)
    n_autolog = _check_autolog(run, runs, len(first))
    assert len(runs) == 2 * (1 + len(first)) + n_autolog, "nothing but the two grids and the autolog section's runs"

    # the same grid gives the same numbers on both executions; the earlier grid stays readable
    assert {a: c.data.metrics for a, c in first.items()} == {a: c.data.metrics for a, c in second.items()}
    assert parents[0].data.metrics == parents[1].data.metrics
    _check_the_null_model_and_sparsity(second)
    _check_models_predict(run, first)
    _check_models_predict(run, second)

    best_val_rmse = parents[1].data.metrics["best_val_rmse"]
    assert run.headline() == f"best alpha val_rmse = {best_val_rmse:.4f}"
