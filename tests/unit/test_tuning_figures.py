"""Unit tests of the figures in tutorial_utils.tuning: the validation curve and Optuna's plots as figures."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import optuna
import pytest
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter
from optuna.visualization.matplotlib import plot_optimization_history, plot_slice

from tutorial_utils.tuning import _as_figure, optuna_figure, plot_validation_curve

matplotlib.use("Agg")
optuna.logging.set_verbosity(optuna.logging.ERROR)
pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


@pytest.fixture(scope="module")
def study() -> optuna.Study:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2 + t.suggest_float("y", 0, 1), n_trials=8)
    return study


def test_as_figure_detaches_the_figure_from_pyplot():
    fig, ax = plt.subplots()
    assert _as_figure(ax) is fig
    assert fig.number not in plt.get_fignums()


def test_as_figure_accepts_an_array_of_axes():
    fig, axes = plt.subplots(1, 3)
    assert _as_figure(axes) is fig


@pytest.mark.parametrize("bad", [None, "axes", np.array([])])
def test_as_figure_refuses_what_is_not_axes(bad):
    with pytest.raises(TypeError, match="Axes"):
        _as_figure(bad)


def test_as_figure_refuses_axes_of_two_figures():
    _, first = plt.subplots()
    _, second = plt.subplots()
    with pytest.raises(ValueError, match="different figures"):
        _as_figure(np.array([first, second]))
    plt.close("all")


def test_optuna_figure_returns_a_figure_and_restores_the_style(study):
    before = dict(matplotlib.rcParams)
    history = optuna_figure(plot_optimization_history, study)
    slices = optuna_figure(plot_slice, study)
    assert isinstance(history, Figure) and isinstance(slices, Figure)
    assert len(slices.axes) >= 2
    assert dict(matplotlib.rcParams) == before
    assert plt.get_fignums() == []


def test_optuna_figure_drops_minor_tick_labels_of_log_axes():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("rate", 1e-3, 1.0, log=True) + t.suggest_float("y", 0, 1), n_trials=8)
    slices = optuna_figure(plot_slice, study)
    log_axes = [ax for ax in slices.axes if ax.get_xscale() == "log"]
    assert len(log_axes) == 1
    assert isinstance(log_axes[0].xaxis.get_minor_formatter(), NullFormatter)


def test_optuna_figure_passes_errors_through(study):
    with pytest.raises(ValueError):
        optuna_figure(plot_slice, study, params=["no-such-param"])


def _evals(n: int = 20) -> dict:
    trees = np.arange(n)
    return {"learn": {"RMSE": list(1 / (trees + 1))}, "validation": {"RMSE": list(1 / (trees + 1) + 0.01 * trees)}}


def test_validation_curve_marks_the_best_iteration():
    fig = plot_validation_curve(_evals(), best_iteration=9)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(ax.lines) == 3  # training, validation, the best-iteration marker
    assert ax.lines[2].get_xdata()[0] == 9
    assert "10 trees" in ax.texts[0].get_text()


def test_validation_curve_needs_both_curves():
    with pytest.raises(KeyError, match="validation"):
        plot_validation_curve({"learn": {"RMSE": [1.0, 0.5]}}, best_iteration=0)
    with pytest.raises(KeyError, match="MAE"):
        plot_validation_curve(_evals(), best_iteration=0, metric="MAE")


def test_validation_curve_from_a_later_tree_counts_trees_over_the_whole_model():
    fig = plot_validation_curve(_evals(), best_iteration=309, first_tree=300)
    (ax,) = fig.axes
    assert list(ax.lines[1].get_xdata()[[0, -1]]) == [300, 319]  # the validation curve, at its trees' indexes
    assert ax.lines[2].get_xdata()[0] == 309
    assert "310 trees" in ax.texts[0].get_text()
    assert ax.texts[0].xy[1] == _evals()["validation"]["RMSE"][9]
    assert ax.get_yscale() == "linear" and plot_validation_curve(_evals(), 9).axes[0].get_yscale() == "log"


@pytest.mark.parametrize(("best_iteration", "first_tree"), [(-1, 0), (20, 0), (299, 300), (320, 300)])
def test_validation_curve_refuses_an_iteration_outside_the_curve(best_iteration, first_tree):
    with pytest.raises(ValueError, match="outside"):
        plot_validation_curve(_evals(20), best_iteration=best_iteration, first_tree=first_tree)
