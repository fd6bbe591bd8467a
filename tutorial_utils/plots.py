"""Figures of the course, built as `matplotlib.figure.Figure` objects (no pyplot state, shown once)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from tutorial_utils.metrics import checked_pair


def plot_data_tour(frame: pd.DataFrame) -> Figure:
    """Price, log price, and log price against log carat coloured by clarity: why the target is log(price)."""
    if frame.empty:
        raise ValueError("cannot plot an empty frame")
    fig = Figure(figsize=(13, 3.8), layout="constrained")
    price_ax, log_ax, carat_ax = fig.subplots(1, 3)
    price_ax.hist(frame["price"], bins=60, color="tab:blue")
    price_ax.set(title="Price is right-skewed", xlabel="price (USD)", ylabel="diamonds")
    log_ax.hist(np.log(frame["price"]), bins=60, color="tab:orange")
    log_ax.set(title="log(price) is the target", xlabel="log(price)", ylabel="diamonds")
    codes = frame["clarity"].cat.codes
    points = carat_ax.scatter(np.log(frame["carat"]), np.log(frame["price"]), c=codes, s=2, cmap="viridis", alpha=0.4)
    colorbar = fig.colorbar(points, ax=carat_ax, ticks=range(len(frame["clarity"].cat.categories)))
    colorbar.ax.set_yticklabels(frame["clarity"].cat.categories)
    colorbar.set_label("clarity (worst to best)")
    carat_ax.set(title="log price is near-linear in log carat", xlabel="log(carat)", ylabel="log(price)")
    return fig


def plot_predictions(y_true: pd.Series, predictions: dict[str, np.ndarray]) -> Figure:
    """Predicted against actual log price, one panel per model, with the ideal diagonal."""
    if not predictions:
        raise ValueError("need at least one model's predictions")
    fig = Figure(figsize=(5 * len(predictions), 4.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(predictions), sharex=True, sharey=True))
    for ax, (name, predicted) in zip(axes, predictions.items(), strict=True):
        draw_predicted_vs_actual(ax, y_true, predicted, title=name)
    return fig


def draw_predicted_vs_actual(ax: Axes, y_true: ArrayLike, y_pred: ArrayLike, title: str) -> None:
    """One panel: predicted against actual log price, with the diagonal of perfect predictions."""
    true, pred = checked_pair(y_true, y_pred)
    low, high = float(min(true.min(), pred.min())), float(max(true.max(), pred.max()))
    ax.scatter(true, pred, s=2, alpha=0.3)
    ax.plot([low, high], [low, high], color="black", linewidth=1, label="perfect prediction")
    ax.set(title=title, xlabel="actual log(price)", ylabel="predicted log(price)")
    ax.legend(loc="upper left")
