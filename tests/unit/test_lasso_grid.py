"""Unit tests of tutorial_utils.lasso_grid: the grid check, the pipeline, sparsity, the alpha path and its figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from sklearn.linear_model import Lasso
from sklearn.preprocessing import StandardScaler

from tutorial_utils.lasso_grid import alpha_path, check_alphas, lasso_pipeline, n_nonzero_coefs, plot_alpha_path


def test_check_alphas_gives_floats_strongest_first():
    assert check_alphas([0.01, 1, 0.1]) == [1.0, 0.1, 0.01]
    assert all(isinstance(alpha, float) for alpha in check_alphas([1]))


@pytest.mark.parametrize(
    ("alphas", "message"),
    [([], "empty"), ([1, 0], "positive"), ([0.1, -1], "positive"), ([float("nan")], "positive"), ([1, 1.0], "repeats")],
)
def test_check_alphas_refuses_bad_grids(alphas, message):
    with pytest.raises(ValueError, match=message):
        check_alphas(alphas)


def test_lasso_pipeline_standardises_then_fits_a_lasso():
    pipeline = lasso_pipeline(0.1, max_iter=500)
    scaler, lasso = (step for _, step in pipeline.steps)
    assert isinstance(scaler, StandardScaler) and isinstance(lasso, Lasso)
    assert (lasso.alpha, lasso.max_iter) == (0.1, 500)


@pytest.mark.parametrize("alpha", [0, -0.5])
def test_lasso_pipeline_refuses_a_non_positive_alpha(alpha):
    with pytest.raises(ValueError, match="alpha must be positive"):
        lasso_pipeline(alpha)


def test_n_nonzero_coefs_counts_what_the_penalty_keeps():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 4)), columns=list("abcd"))
    y = 3 * X["a"] + rng.normal(scale=0.1, size=200)  # only `a` matters
    assert n_nonzero_coefs(lasso_pipeline(0.5).fit(X, y)) == 1
    assert n_nonzero_coefs(lasso_pipeline(100.0).fit(X, y)) == 0  # the null model


def test_n_nonzero_coefs_refuses_an_unfitted_pipeline():
    with pytest.raises(ValueError, match="fit the pipeline first"):
        n_nonzero_coefs(lasso_pipeline(0.1))


def _children(alphas: list[str], parent: str = "p" * 32) -> pd.DataFrame:
    """A `mlflow.search_runs`-like frame of child runs, one per alpha (as MLflow stores it: a string)."""
    return pd.DataFrame(
        {
            "run_id": [f"{n:032x}" for n in range(len(alphas))],
            "status": ["FINISHED"] * len(alphas),
            "tags.mlflow.runName": [f"lasso-alpha-{alpha}" for alpha in alphas],
            "tags.mlflow.parentRunId": [parent] * len(alphas),
            "params.alpha": alphas,
            "metrics.val_rmse": [1.0167, 0.149012, 0.1831][: len(alphas)],
            "metrics.n_nonzero_coefs": [0.0, 9.0, 7.0][: len(alphas)],
        }
    )


def test_alpha_path_is_one_row_per_alpha_strongest_first():
    path = alpha_path(_children(["1.0", "0.001", "0.01"]))
    assert list(path.columns) == ["run", "status", "alpha", "val_rmse", "n_nonzero_coefs"]
    assert path["alpha"].tolist() == [1.0, 0.01, 0.001]
    assert path["val_rmse"].tolist() == [1.0167, 0.1831, 0.149]
    assert path["n_nonzero_coefs"].tolist() == [0, 7, 9] and path["n_nonzero_coefs"].dtype == "int64"
    assert path["run"].tolist() == ["lasso-alpha-1.0", "lasso-alpha-0.01", "lasso-alpha-0.001"]


def test_alpha_path_refuses_no_runs_and_mixed_grids():
    with pytest.raises(ValueError, match="no child runs"):
        alpha_path(_children([]))
    two_grids = pd.concat([_children(["1.0", "0.001"]), _children(["1.0", "0.001"], parent="q" * 32)])
    with pytest.raises(ValueError, match="scope the search"):
        alpha_path(two_grids)


def test_alpha_path_names_a_missing_metric():
    with pytest.raises(KeyError, match="n_nonzero_coefs"):
        alpha_path(_children(["1.0"]).drop(columns="metrics.n_nonzero_coefs"))


def test_plot_alpha_path_draws_both_panels_on_a_log_scale_and_marks_the_best_alpha():
    fig = plot_alpha_path(alpha_path(_children(["1.0", "0.001", "0.01"])))
    assert isinstance(fig, Figure)
    rmse_ax, coefs_ax = fig.axes
    assert rmse_ax.get_xscale() == coefs_ax.get_xscale() == "log"
    assert rmse_ax.lines[0].get_ydata().tolist() == [1.0167, 0.1831, 0.149]
    assert coefs_ax.lines[0].get_ydata().tolist() == [0, 7, 9]
    assert rmse_ax.lines[1].get_xdata()[0] == 0.001  # the dashed line at the best alpha
    assert "best alpha 0.001" in fig.get_suptitle()


@pytest.mark.parametrize(
    "path",
    [
        pd.DataFrame(columns=["alpha", "val_rmse", "n_nonzero_coefs"]),
        pd.DataFrame({"alpha": [1.0], "val_rmse": [1.0]}),
    ],
)
def test_plot_alpha_path_refuses_an_empty_or_incomplete_table(path):
    with pytest.raises(ValueError, match="alpha-path table"):
        plot_alpha_path(path)
