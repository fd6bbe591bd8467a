"""Tuning plumbing for notebooks 04 and 06: the course's CatBoost search space and model, a progress bar, the trials
as a table, and figures (the early-stopping curve, Optuna's matplotlib plots as figures).

`suggest_catboost_params` and `catboost_regressor` are defined once, here: notebook 04 prints their source as part of
its lesson, and 06's worker script, the benchmarks and the tests call the very same functions.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import optuna
import pandas as pd
from catboost import CatBoostRegressor
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter
from optuna import Study
from optuna.trial import FrozenTrial, TrialState
from tqdm.std import tqdm

from tutorial_utils.data import CATEGORICAL_FEATURES


def suggest_catboost_params(trial: optuna.Trial) -> dict[str, Any]:
    """The course's CatBoost search space (notebook 04 explains each parameter); fixed entries included."""
    return {
        "depth": trial.suggest_int("depth", 4, 8),
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
        "l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 1.0, 30.0, log=True),
        "random_strength": trial.suggest_float("random_strength", 0.1, 10.0, log=True),
        "bootstrap_type": "Bernoulli",  # fixed: the bagging scheme that `subsample` controls
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
    }


def catboost_regressor(
    params: Mapping[str, Any], iterations: int, *, seed: int, thread_count: int
) -> CatBoostRegressor:
    """An unfitted CatBoost regressor: RMSE loss, native categoricals, seeded, a fixed thread count, no files written.

    Raises ValueError when `iterations` is not positive, or `thread_count` is neither positive nor -1 (all cores):
    CatBoost 1.2 ends the whole process with a floating point exception when asked for zero threads.
    """
    if iterations < 1 or not (thread_count >= 1 or thread_count == -1):
        raise ValueError(f"need iterations >= 1 and thread_count >= 1 (or -1), got {iterations} and {thread_count}")
    return CatBoostRegressor(
        **params,
        loss_function="RMSE",
        random_seed=seed,
        thread_count=thread_count,
        iterations=iterations,
        cat_features=CATEGORICAL_FEATURES,  # native categorical handling for cut, color and clarity
        verbose=False,
        allow_writing_files=False,  # no catboost_info/ folder
    )


class TrialProgressBar:
    """An Optuna callback drawing a plain-text progress bar with the best value so far.

    Unlike `show_progress_bar=True` (a Jupyter widget in notebooks), the text bar also reads well in a
    saved notebook and in headless logs. Pass it as `study.optimize(..., callbacks=[TrialProgressBar(n)])`.
    Raises ValueError when `n_trials` is not positive.
    """

    def __init__(self, n_trials: int, *, file: TextIO | None = None) -> None:
        if n_trials < 1:
            raise ValueError(f"n_trials must be at least 1, got {n_trials}")
        self.bar = tqdm(total=n_trials, unit="trial", file=file or sys.stdout, dynamic_ncols=False, ncols=100)

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        if study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            best = study.best_trial
            self.bar.set_postfix_str(f"best {best.value:.4f} (trial {best.number})", refresh=False)
        self.bar.update(1)
        if self.bar.n >= self.bar.total:
            self.bar.close()


def trials_table(
    study: Study, *, sort: bool = False, user_attrs: bool = False, decimals: int | None = 4
) -> pd.DataFrame:
    """One row per trial: its number, state, value and sampled parameters (no timestamps or durations), then its
    user attributes when `user_attrs` is true.

    `sort=True` orders by value (best first, failed trials last); numbers are rounded to `decimals` (None: not).
    Raises ValueError when the study has no trials.
    """
    trials = study.get_trials(deepcopy=False)
    if not trials:
        raise ValueError(f"study {study.study_name!r} has no trials yet: run study.optimize first")
    rows = [
        {"trial": t.number, "state": t.state.name, "value": t.value if t.values else None}
        | t.params
        | (t.user_attrs if user_attrs else {})
        for t in trials
    ]
    table = pd.DataFrame(rows).set_index("trial")
    if sort:
        ascending = study.direction.name != "MAXIMIZE"
        table = table.sort_values("value", ascending=ascending, na_position="last", kind="stable")
    return table if decimals is None else table.round(decimals)


def _as_figure(axes: Axes | np.ndarray) -> Figure:
    """The figure holding `axes` (one Axes or an array of them), detached from pyplot so it is shown once.

    Optuna's matplotlib plots draw on pyplot figures, which the notebook backend would display on its own
    at the end of the cell; closing them in pyplot leaves a plain figure to return, log and display once.
    Raises TypeError when `axes` holds no matplotlib Axes.
    """
    flat = list(np.ravel(axes)) if isinstance(axes, np.ndarray) else [axes]
    if not flat or not all(isinstance(ax, Axes) for ax in flat):
        raise TypeError(f"expected a matplotlib Axes or an array of them, got {type(axes).__name__}")
    figure = flat[0].figure
    if any(ax.figure is not figure for ax in flat):
        raise ValueError("the axes belong to different figures")
    plt.close(figure)
    return figure


def optuna_figure(plot: Callable[..., Axes | np.ndarray], *args: Any, **kwargs: Any) -> Figure:
    """Call one of `optuna.visualization.matplotlib`'s plot functions and return its figure (see `_as_figure`).

    Optuna switches pyplot to its 'ggplot' style as it plots; the change is undone afterwards so that
    the course's other figures keep their look. Log-scaled axes lose their minor tick labels, which
    overlap in the narrow panels of a slice plot.
    """
    with matplotlib.rc_context():
        figure = _as_figure(plot(*args, **kwargs))
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() == "log":
                axis.set_minor_formatter(NullFormatter())
    return figure


def plot_validation_curve(
    evals: Mapping[str, Mapping[str, Sequence[float]]],
    best_iteration: int,
    *,
    metric: str = "RMSE",
    first_tree: int = 0,
) -> Figure:
    """Training and validation loss per tree (CatBoost's `get_evals_result()`), with the best iteration marked.

    `first_tree` is the index of the first tree the curves record: a model fitted on from an `init_model` records
    its new trees only. `best_iteration` counts trees over the whole model. The loss axis is logarithmic for a
    curve from the first tree, whose early errors would flatten the rest. Raises KeyError when `evals` lacks the
    `learn` or `validation` curve of `metric`, and ValueError when `best_iteration` is not a recorded tree.
    """
    try:
        learn, validation = np.asarray(evals["learn"][metric]), np.asarray(evals["validation"][metric])
    except KeyError:
        raise KeyError(f"evals needs 'learn' and 'validation' curves of {metric!r}, got {dict(evals)!r:.200}") from None
    trees = first_tree + np.arange(len(validation))
    if not first_tree <= best_iteration < first_tree + len(validation):
        raise ValueError(f"best_iteration {best_iteration} is outside the recorded trees {first_tree} to {trees[-1]}")
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(first_tree + np.arange(len(learn)), learn, label="training split", color="tab:blue")
    ax.plot(trees, validation, label="validation split", color="tab:orange")
    best = validation[best_iteration - first_tree]
    ax.axvline(best_iteration, color="black", linestyle="--", linewidth=1)
    ax.annotate(
        f"best: {best_iteration + 1} trees, {metric} {best:.4f}",
        xy=(best_iteration, best),
        xytext=(0.45, 0.6),
        textcoords="axes fraction",
        arrowprops={"arrowstyle": "->"},
    )
    scale = "log" if first_tree == 0 else "linear"
    ax.set_yscale(scale)
    ylabel = f"{metric} of log(price)" + (", log scale" if scale == "log" else "")
    ax.set(xlabel="trees", ylabel=ylabel, title="Early stopping picks the tree count")
    ax.legend(loc="upper right")
    return fig
