"""Figures of notebook 04: the early-stopping validation curve, and Optuna's matplotlib plots as figures."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter


def as_figure(axes: Axes | np.ndarray) -> Figure:
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
    """Call one of `optuna.visualization.matplotlib`'s plot functions and return its figure (see `as_figure`).

    Optuna switches pyplot to its 'ggplot' style as it plots; the change is undone afterwards so that
    the course's other figures keep their look. Log-scaled axes lose their minor tick labels, which
    overlap in the narrow panels of a slice plot.
    """
    with matplotlib.rc_context():
        figure = as_figure(plot(*args, **kwargs))
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() == "log":
                axis.set_minor_formatter(NullFormatter())
    return figure


def plot_validation_curve(
    evals: Mapping[str, Mapping[str, Sequence[float]]], best_iteration: int, *, metric: str = "RMSE"
) -> Figure:
    """Training and validation loss per tree (CatBoost's `get_evals_result()`), with the best iteration marked.

    Raises KeyError when `evals` lacks the `learn` or `validation` curve of `metric`, and ValueError when
    `best_iteration` is not an index of the validation curve.
    """
    try:
        learn, validation = np.asarray(evals["learn"][metric]), np.asarray(evals["validation"][metric])
    except KeyError:
        raise KeyError(f"evals needs 'learn' and 'validation' curves of {metric!r}, got {dict(evals)!r:.200}") from None
    if not 0 <= best_iteration < len(validation):
        raise ValueError(f"best_iteration {best_iteration} is outside the {len(validation)} recorded iterations")
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(np.arange(len(learn)), learn, label="training split", color="tab:blue")
    ax.plot(np.arange(len(validation)), validation, label="validation split", color="tab:orange")
    best = validation[best_iteration]
    ax.axvline(best_iteration, color="black", linestyle="--", linewidth=1)
    ax.annotate(
        f"best: {best_iteration + 1} trees, {metric} {best:.4f}",
        xy=(best_iteration, best),
        xytext=(0.45, 0.6),
        textcoords="axes fraction",
        arrowprops={"arrowstyle": "->"},
    )
    ax.set_yscale("log")  # the first trees' large errors would otherwise flatten the part that matters
    ax.set(xlabel="trees", ylabel=f"{metric} of log(price), log scale", title="Early stopping picks the tree count")
    ax.legend(loc="upper right")
    return fig
