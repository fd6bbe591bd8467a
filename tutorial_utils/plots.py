"""Figures of the course, built as `matplotlib.figure.Figure` objects (no pyplot state, shown once)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


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
    low, high = float(np.min(y_true)), float(np.max(y_true))
    for ax, (name, predicted) in zip(axes, predictions.items(), strict=True):
        ax.scatter(y_true, predicted, s=2, alpha=0.3)
        ax.plot([low, high], [low, high], color="black", linewidth=1, label="perfect prediction")
        ax.set(title=name, xlabel="actual log(price)", ylabel="predicted log(price)")
        ax.legend(loc="upper left")
    return fig
