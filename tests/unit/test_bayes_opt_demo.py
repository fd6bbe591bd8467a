"""The Bayesian-optimisation picture: EI, the GP surrogate, the steps, the panels and the GIF."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from tutorial_utils.bayes_opt_demo import (
    FORRESTER_ARGMIN,
    FORRESTER_MINIMUM,
    BOStep,
    bo_animation_gif,
    expected_improvement,
    fit_gp,
    forrester,
    plot_bo_panels,
)


@pytest.fixture(scope="module")
def steps():
    """Three steps of notebook 03's loop: fit, score every candidate, take the best, evaluate it."""
    grid, x_seen = np.linspace(0, 1, 100), np.array([0.1, 0.5, 0.9])
    found = []
    for _ in range(3):
        y_seen = forrester(x_seen)
        mean, std = fit_gp(x_seen, y_seen, seed=42).predict(grid.reshape(-1, 1), return_std=True)
        ei = expected_improvement(mean, std, best=y_seen.min())
        found.append(BOStep(x_seen, y_seen, grid, mean, std, ei, float(grid[np.argmax(ei)])))
        x_seen = np.append(x_seen, found[-1].x_next)
    return found


def test_forrester_has_its_known_minimum():
    grid = np.linspace(0, 1, 100_001)
    values = forrester(grid)
    assert grid[values.argmin()] == pytest.approx(FORRESTER_ARGMIN, abs=1e-4)
    assert values.min() == pytest.approx(FORRESTER_MINIMUM, abs=1e-4)


def test_expected_improvement_is_larger_where_mean_is_lower_or_less_certain():
    ei = expected_improvement(np.array([0.0, -1.0, 0.0, 0.0]), np.array([1.0, 1.0, 2.0, 0.0]), best=0.0, xi=0.0)
    assert ei[1] > ei[0] and ei[2] > ei[0] and ei[3] == 0.0
    assert ei[0] == pytest.approx(1 / np.sqrt(2 * np.pi))  # E[max(0, -Z)] for a standard normal Z


def test_expected_improvement_rejects_bad_input():
    with pytest.raises(ValueError, match="one shape"):
        expected_improvement(np.zeros(2), np.ones(3), best=0.0)
    with pytest.raises(ValueError, match="negative"):
        expected_improvement(np.zeros(2), -np.ones(2), best=0.0)
    with pytest.raises(ValueError, match="negative"):
        expected_improvement(np.zeros(2), np.ones(2), best=0.0, xi=-0.1)


def test_fit_gp_interpolates_the_points_it_saw():
    x = np.array([0.1, 0.4, 0.9])
    gp = fit_gp(x, forrester(x), seed=0)
    mean, std = gp.predict(x.reshape(-1, 1), return_std=True)
    assert np.allclose(mean, forrester(x), atol=1e-3) and np.all(std < 1e-2)


def test_fit_gp_rejects_bad_input():
    with pytest.raises(ValueError, match="at least two"):
        fit_gp(np.array([0.5]), np.array([1.0]))
    with pytest.raises(ValueError, match="one value per point"):
        fit_gp(np.array([0.1, 0.5]), np.array([1.0]))


def test_panels_have_a_surrogate_and_an_ei_axis_per_step(steps):
    fig = plot_bo_panels(steps)
    assert isinstance(fig, Figure) and len(fig.axes) == 2 * len(steps)
    with pytest.raises(ValueError, match="at least one step"):
        plot_bo_panels([])


def test_gif_is_an_animated_gif_and_deterministic(steps):
    gif = bo_animation_gif(steps, dpi=20)
    assert gif.startswith(b"GIF89a")
    assert gif == bo_animation_gif(steps, dpi=20)
    from io import BytesIO

    from PIL import Image

    assert Image.open(BytesIO(gif)).n_frames == len(steps)


def test_gif_rejects_bad_input(steps):
    with pytest.raises(ValueError, match="at least one step"):
        bo_animation_gif([])
    with pytest.raises(ValueError, match="dpi"):
        bo_animation_gif(steps, dpi=0)
    with pytest.raises(ValueError, match="fps"):
        bo_animation_gif(steps, fps=0)
