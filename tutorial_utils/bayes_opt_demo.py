"""The pieces of notebook 03's Bayesian-optimisation loop (a GP surrogate, expected improvement) and its pictures.

The loop itself is written in the notebook. The GP is scikit-learn's, on a 1-D black box; everything is seeded, and
the pictures are `matplotlib.figure.Figure`s (or GIF bytes), so two executions draw the same pictures.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern

#: The Forrester et al. (2008) function on [0, 1]: a standard 1-D test function with one global minimum.
FORRESTER_BOUNDS = (0.0, 1.0)
FORRESTER_ARGMIN = 0.75725
FORRESTER_MINIMUM = -6.02074


def forrester(x: np.ndarray | float) -> np.ndarray:
    """The Forrester function (6x - 2)^2 sin(12x - 4), the 1-D black box of the demo."""
    x = np.asarray(x, dtype="float64")
    return (6 * x - 2) ** 2 * np.sin(12 * x - 4)


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.01) -> np.ndarray:
    """Expected improvement below `best` (minimisation) of a Gaussian with `mean` and `std` at each point.

    `xi` >= 0 asks for a little more than the best so far (more exploration); zero std gives zero EI.
    """
    mean, std = np.asarray(mean, dtype="float64"), np.asarray(std, dtype="float64")
    if mean.shape != std.shape:
        raise ValueError(f"mean and std need one shape, got {mean.shape} and {std.shape}")
    if np.any(std < 0) or xi < 0:
        raise ValueError("std and xi must not be negative")
    improvement = best - xi - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(std > 0, improvement / std, 0.0)
    return np.where(std > 0, improvement * norm.cdf(z) + std * norm.pdf(z), 0.0)


@dataclass(frozen=True)
class BOStep:
    """One iteration: the points seen so far, the GP's mean and std and the EI on a grid, and the next point."""

    x_seen: np.ndarray
    y_seen: np.ndarray
    grid: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    ei: np.ndarray
    x_next: float


def fit_gp(x: np.ndarray, y: np.ndarray, seed: int = 0) -> GaussianProcessRegressor:
    """A GP surrogate (constant x Matern 5/2 kernel, normalised targets) fitted to 1-D points, seeded."""
    x, y = np.asarray(x, dtype="float64").reshape(-1, 1), np.asarray(y, dtype="float64")
    if len(x) < 2 or len(x) != len(y):
        raise ValueError(f"need at least two points and one value per point, got {len(x)} and {len(y)}")
    kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(length_scale=0.2, length_scale_bounds=(0.05, 1.0), nu=2.5)
    gp = GaussianProcessRegressor(kernel, alpha=1e-6, normalize_y=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a kernel bound hit is fine for a picture
        return gp.fit(x, y)


def _draw_step(
    step: BOStep, number: int, func: Callable[[np.ndarray], np.ndarray], gp_ax: Axes, ei_ax: Axes, legend: bool
) -> None:
    """Draw one step: the truth, the GP mean and 95% band, the points so far, the EI and the next point."""
    gp_ax.plot(step.grid, func(step.grid), color="grey", linestyle="--", linewidth=1, label="black box (unknown)")
    gp_ax.plot(step.grid, step.mean, color="tab:blue", label="GP mean")
    gp_ax.fill_between(
        step.grid,
        step.mean - 1.96 * step.std,
        step.mean + 1.96 * step.std,
        color="tab:blue",
        alpha=0.2,
        label="95% band",
    )
    gp_ax.scatter(step.x_seen, step.y_seen, color="black", zorder=3, label="sampled")
    gp_ax.axvline(step.x_next, color="tab:red", linewidth=1)
    gp_ax.set(title=f"step {number}: {len(step.x_seen)} points", ylim=(-12, 18), ylabel="f(x)")
    ei_ax.fill_between(step.grid, step.ei, color="tab:green", alpha=0.4)
    ei_ax.plot(step.grid, step.ei, color="tab:green", label="expected improvement")
    ei_ax.axvline(step.x_next, color="tab:red", linewidth=1, label="next point")
    ei_ax.set(xlabel="x", ylabel="EI")
    if legend:
        gp_ax.legend(loc="upper left", fontsize="small")
        ei_ax.legend(loc="upper left", fontsize="small")


def plot_bo_panels(steps: list[BOStep], func: Callable[[np.ndarray], np.ndarray] = forrester) -> Figure:
    """The steps side by side: GP surrogate on top, expected improvement below, the next point in red."""
    if not steps:
        raise ValueError("need at least one step")
    fig = Figure(figsize=(3.2 * len(steps), 4.6), layout="constrained")
    axes = fig.subplots(2, len(steps), sharex=True, height_ratios=[2, 1], squeeze=False)
    for number, step in enumerate(steps, start=1):
        _draw_step(step, number, func, axes[0, number - 1], axes[1, number - 1], legend=number == 1)
    return fig


def bo_animation_gif(
    steps: list[BOStep], func: Callable[[np.ndarray], np.ndarray] = forrester, *, dpi: int = 60, fps: float = 1.0
) -> bytes:
    """The steps as an animated GIF (matplotlib's Pillow writer), one frame per step; returns the file's bytes."""
    if not steps:
        raise ValueError("need at least one step")
    if dpi < 10 or fps <= 0:
        raise ValueError("need dpi >= 10 and fps > 0")
    fig = Figure(figsize=(6, 4.5), layout="constrained")
    gp_ax, ei_ax = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])

    def draw(frame: int) -> None:
        gp_ax.clear()
        ei_ax.clear()
        _draw_step(steps[frame], frame + 1, func, gp_ax, ei_ax, legend=True)

    animation = FuncAnimation(fig, draw, frames=len(steps), repeat=False)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bayes_opt.gif"
        animation.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
        return path.read_bytes()
