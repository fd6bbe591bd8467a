"""The Bayesian-optimisation picture: EI, the GP surrogate, the steps, the panels and the GIF."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.figure import Figure

from tutorial_utils.bayes_opt_demo import (
    FORRESTER_ARGMIN,
    FORRESTER_MINIMUM,
    bayes_opt_steps,
    bo_animation_gif,
    expected_improvement,
    fit_gp,
    forrester,
    plot_bo_panels,
)


@pytest.fixture(scope="module")
def steps():
    return bayes_opt_steps(n_steps=3, seed=42, grid_size=100)


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


def test_steps_add_one_point_each_and_are_seeded(steps):
    assert [len(step.x_seen) for step in steps] == [3, 4, 5]
    for step, following in itertools.pairwise(steps):
        assert following.x_seen[-1] == step.x_next
    again = bayes_opt_steps(n_steps=3, seed=42, grid_size=100)
    assert [s.x_next for s in again] == [s.x_next for s in steps]
    assert all(step.ei.shape == step.grid.shape == step.mean.shape for step in steps)


def test_steps_reject_bad_input():
    with pytest.raises(ValueError, match="low < high"):
        bayes_opt_steps(bounds=(1.0, 0.0))
    with pytest.raises(ValueError, match="n_steps"):
        bayes_opt_steps(n_steps=0)
    with pytest.raises(ValueError, match="n_initial"):
        bayes_opt_steps(n_initial=1)


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
