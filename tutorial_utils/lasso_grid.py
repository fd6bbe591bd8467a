"""LASSO plumbing for notebook 02: the pipeline, its sparsity, and the alpha path read back from child runs."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.linear_model import Lasso
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from tutorial_utils.runs import runs_table


def check_alphas(alphas: Iterable[float]) -> list[float]:
    """The alpha grid as floats, strongest regularisation first; ValueError if empty, not positive or repeated."""
    grid = [float(alpha) for alpha in alphas]
    if not grid:
        raise ValueError("the alpha grid is empty: give at least one alpha")
    if not all(np.isfinite(alpha) and alpha > 0 for alpha in grid):
        raise ValueError(f"every alpha must be a positive number, got {grid}")
    if len(set(grid)) != len(grid):
        raise ValueError(f"the alpha grid repeats a value, so two child runs would share a name: {grid}")
    return sorted(grid, reverse=True)


def lasso_pipeline(alpha: float, max_iter: int = 10_000) -> Pipeline:
    """Standardise every feature, then fit a LASSO (the course's linear model, as in notebook 00)."""
    if not alpha > 0:
        raise ValueError(f"alpha must be positive, got {alpha}")
    return make_pipeline(StandardScaler(), Lasso(alpha=alpha, max_iter=max_iter))


def n_nonzero_coefs(pipeline: Pipeline) -> int:
    """How many coefficients the fitted LASSO at the end of `pipeline` kept (not shrunk to exactly zero).

    Raises ValueError when the pipeline's last step has no fitted `coef_`.
    """
    coefficients = getattr(pipeline[-1], "coef_", None)
    if coefficients is None:
        raise ValueError(f"{type(pipeline[-1]).__name__} has no coefficients: fit the pipeline first")
    return int(np.count_nonzero(coefficients))


def alpha_path(children: pd.DataFrame) -> pd.DataFrame:
    """The children's `mlflow.search_runs` frame as a table: run, status, alpha, val_rmse, n_nonzero_coefs.

    Sorted by alpha, strongest regularisation first. Raises ValueError when there are no runs or two runs
    share an alpha (the frame then mixes grids: scope the search to one parent), KeyError (from
    `runs_table`) when a column is missing.
    """
    if children.empty:
        raise ValueError("no child runs: search with filter_string=\"tags.mlflow.parentRunId = '<parent id>'\"")
    path = runs_table(children, params=["alpha"], metrics=["val_rmse", "n_nonzero_coefs"])
    if path["alpha"].duplicated().any():
        raise ValueError("several runs share an alpha: scope the search to the children of one parent run")
    path["n_nonzero_coefs"] = path["n_nonzero_coefs"].astype("int64")
    return path.sort_values("alpha", ascending=False, ignore_index=True)


def plot_alpha_path(path: pd.DataFrame) -> Figure:
    """Two panels against alpha (log scale): validation RMSE, and coefficients kept; the best alpha marked.

    `path` is the table `alpha_path` returns. Raises ValueError when it is empty or lacks a column.
    """
    missing = sorted({"alpha", "val_rmse", "n_nonzero_coefs"} - set(path.columns))
    if path.empty or missing:
        raise ValueError(f"need a non-empty alpha-path table (see alpha_path); missing columns: {missing}")
    best_alpha = path.loc[path["val_rmse"].idxmin(), "alpha"]
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    rmse_ax, coefs_ax = fig.subplots(1, 2, sharex=True)
    rmse_ax.plot(path["alpha"], path["val_rmse"], marker="o")
    rmse_ax.set(title="Validation error", ylabel="val_rmse (log price)")
    coefs_ax.plot(path["alpha"], path["n_nonzero_coefs"], marker="o", color="tab:orange")
    coefs_ax.set(title="Coefficients the LASSO keeps", ylabel="non-zero coefficients")
    coefs_ax.set_ylim(bottom=-0.5, top=max(path["n_nonzero_coefs"].max(), 1) + 0.5)
    coefs_ax.yaxis.get_major_locator().set_params(integer=True)
    for ax in (rmse_ax, coefs_ax):
        ax.set_xscale("log")
        ax.set_xlabel("alpha (log scale; stronger regularisation to the right)")
        ax.axvline(best_alpha, color="grey", linestyle="--", linewidth=1)
    fig.suptitle(f"LASSO alpha path: best alpha {best_alpha:g} (dashed line)")
    return fig
