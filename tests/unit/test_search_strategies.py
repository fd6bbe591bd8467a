"""Grid, random and Bayesian search helpers: Branin, grids, trial tables, running bests and figures."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest
from matplotlib.figure import Figure

from tutorial_utils.search_strategies import (
    BRANIN_BOUNDS,
    BRANIN_MINIMUM,
    branin,
    branin_background,
    branin_in_five,
    grid_axes,
    median_gaps,
    plot_seed_bands,
    plot_strategy_comparison,
    running_best,
    trials_frame,
    trials_to_within,
    with_running_best,
)


def _trials(values: dict[tuple[str, int], list[float]]) -> pd.DataFrame:
    rows = [
        {"strategy": strategy, "seed": seed, "trial": n, "value": v, "x": float(n), "y": float(seed)}
        for (strategy, seed), vs in values.items()
        for n, v in enumerate(vs, start=1)
    ]
    return pd.DataFrame(rows)


TRIALS = _trials(
    {
        ("grid", 1): [5.0, 4.0, 3.0, 2.5],
        ("grid", 2): [5.0, 3.0, 2.5, 2.5],
        ("random", 1): [4.0, 2.0, 3.0, 1.05],
        ("random", 2): [6.0, 5.0, 4.0, 3.0],
        ("tpe", 1): [4.0, 1.0, 1.5, 1.2],
        ("tpe", 2): [3.0, 1.09, 1.0, 1.0],
    }
)


def test_branin_has_its_three_known_minima():
    for x1, x2 in [(-np.pi, 12.275), (np.pi, 2.275), (9.42478, 2.475)]:
        assert branin(x1, x2) == pytest.approx(BRANIN_MINIMUM, abs=1e-5)
    x1, x2 = np.meshgrid(np.linspace(*BRANIN_BOUNDS["x1"], 301), np.linspace(*BRANIN_BOUNDS["x2"], 301))
    assert branin(x1, x2).min() >= BRANIN_MINIMUM - 1e-9


def test_grid_axes_spans_the_bounds_with_a_full_grid():
    grid = grid_axes({"a": (0.0, 1.0), "b": (0.01, 1.0), "c": (2, 7)}, 27, log={"b"}, integer={"c"})
    assert grid["a"] == [0.0, 0.5, 1.0]
    assert grid["b"] == pytest.approx([0.01, 0.1, 1.0]) and grid["b"][-1] <= 1.0
    assert grid["c"] == [2, 4, 7] and all(isinstance(v, int) for v in grid["c"])
    assert grid_axes({"x": (0.0, 1.0)}, 5)["x"] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_grid_axes_rejects_bad_input():
    with pytest.raises(ValueError, match="perfect power"):
        grid_axes(BRANIN_BOUNDS, 30)
    with pytest.raises(ValueError, match="perfect power"):
        grid_axes(BRANIN_BOUNDS, 0)
    with pytest.raises(ValueError, match="at least one parameter"):
        grid_axes({}, 4)
    with pytest.raises(ValueError, match="not in bounds"):
        grid_axes(BRANIN_BOUNDS, 4, log={"z"})
    with pytest.raises(ValueError, match="low < high"):
        grid_axes({"x": (1.0, 0.0)}, 3)
    with pytest.raises(ValueError, match="low > 0"):
        grid_axes({"x": (0.0, 1.0)}, 3, log={"x"})
    with pytest.raises(ValueError, match="fewer than 7 whole numbers"):
        grid_axes({"d": (2, 7)}, 7, integer={"d"})


def test_trials_frame_has_one_row_per_finished_trial():
    studies = {}
    for seed in (0, 1):
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
        study.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2, n_trials=3)
        studies["random", seed] = study
    frame = trials_frame(studies)
    assert list(frame.columns) == ["strategy", "seed", "trial", "value", "x"]
    assert frame["trial"].tolist() == [1, 2, 3, 1, 2, 3]
    assert np.allclose(frame["value"], frame["x"] ** 2)


def test_trials_frame_rejects_studies_without_trials():
    with pytest.raises(ValueError, match="no finished trial"):
        trials_frame({("random", 0): optuna.create_study()})


def test_running_best():
    assert running_best([3.0, 1.0, 2.0, 0.5]).tolist() == [3.0, 1.0, 1.0, 0.5]
    for bad in ([], [[1.0, 2.0]], [1.0, np.nan]):
        with pytest.raises(ValueError, match="non-empty 1-D"):
            running_best(bad)


def test_with_running_best_works_per_strategy_and_seed():
    frame = with_running_best(TRIALS.sample(frac=1, random_state=0))
    tpe = frame[(frame["strategy"] == "tpe") & (frame["seed"] == 1)]
    assert tpe["running_best"].tolist() == [4.0, 1.0, 1.0, 1.0]
    assert tpe["cumulative"].tolist() == pytest.approx([4.0, 5.0, 6.5, 7.7])
    with pytest.raises(ValueError, match="missing"):
        with_running_best(TRIALS.drop(columns="seed"))
    with pytest.raises(ValueError, match="no trials"):
        with_running_best(TRIALS.iloc[:0])


def test_trials_to_within_counts_trials_to_the_best_any_run_found():
    table = trials_to_within(TRIALS, tolerances=(0.1, 2.0))
    assert table.index.tolist() == ["grid", "random", "tpe"]
    # best of all runs is 1.0: within 10% means <= 1.1, within 200% means <= 3.0
    assert table.loc["tpe"].tolist() == [1.0, "2/2", "2", "2/2", "1.5"]
    assert table.loc["random"].tolist() == [2.025, "1/2", "never", "2/2", "3"]
    assert table.loc["grid"].tolist() == [2.5, "0/2", "never", "2/2", "2.5"]
    assert list(table.columns) == [
        "median best value",
        "seeds within 10%",
        "trials to 10% (median)",
        "seeds within 200%",
        "trials to 200% (median)",
    ]


def test_trials_to_within_a_known_target_instead_of_the_best_found():
    table = trials_to_within(TRIALS, tolerances=(0.1,), target=2.0)  # within 10% of 2.0: <= 2.2
    assert table["seeds within 10%"].tolist() == ["0/2", "1/2", "2/2"]
    assert table.loc["random", "trials to 10% (median)"] == "never"  # one seed of two never gets there


def test_branin_in_five_depends_on_the_first_two_values_only():
    corner = branin_in_five([0.0, 1.0, 0.0, 0.0, 0.0])
    assert corner == pytest.approx(float(branin(-5.0, 15.0)))
    assert branin_in_five([0.0, 1.0, 1.0, 0.3, 0.9]) == corner
    minimum = [(np.pi + 5) / 15, 2.275 / 15, 0.5, 0.5, 0.5]
    assert branin_in_five(minimum) == pytest.approx(BRANIN_MINIMUM, abs=1e-5)
    for bad in ([0.5] * 4, [0.5, 0.5, 0.5, 0.5, 1.5]):
        with pytest.raises(ValueError, match="five values in"):
            branin_in_five(bad)


def _best_values(best: dict[str, list[float]]) -> pd.DataFrame:
    return _trials({(strategy, seed): [v] for strategy, vs in best.items() for seed, v in enumerate(vs)})


def test_median_gaps_tell_a_clear_gap_from_none():
    trials = _best_values(
        {
            "grid": [3.0] * 8,
            "random": [1.0, 2.0, 1.5, 1.2, 0.9, 1.8, 1.1, 1.6],
            "tpe": [1.4, 1.0, 1.2, 1.3, 1.1, 1.7, 0.9, 1.5],
        }
    )
    table = median_gaps(trials, seed=1)
    assert table.loc["grid", "gap to tpe"] == pytest.approx(3.0 - 1.25)
    assert table.loc["grid", "the data say"] == "tpe ends lower"  # a constant far above every TPE value
    assert table.loc["random", "the data say"] == "no clear difference"
    low, high = (float(v) for v in table.loc["random", "95% interval"].strip("[]").split(","))
    assert low < 0 < high
    assert table.loc["tpe"].tolist() == [8, 1.25, "", "", ""]
    assert table.equals(median_gaps(trials, seed=1))  # seeded: the same interval every time


def test_median_gaps_need_the_baseline_with_two_seeds():
    with pytest.raises(ValueError, match="no trials of 'sobol'"):
        median_gaps(TRIALS, against="sobol")
    with pytest.raises(ValueError, match="at least two seeds"):
        median_gaps(_best_values({"random": [1.0, 2.0], "tpe": [1.0]}))


def test_trials_to_within_rejects_bad_input():
    with pytest.raises(ValueError, match="tolerances"):
        trials_to_within(TRIALS, tolerances=())
    with pytest.raises(ValueError, match="tolerances"):
        trials_to_within(TRIALS, tolerances=(-0.1,))
    with pytest.raises(ValueError, match="missing"):
        trials_to_within(TRIALS.drop(columns="value"))


def test_comparison_figure_has_a_panel_per_strategy_and_three_curves():
    fig = plot_strategy_comparison(TRIALS, "x", "y", title="t", background=branin_background)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3 + 3 + 1  # where each sampled, value / running best / cumulative, the colour bar
    fig = plot_strategy_comparison(TRIALS, "x", seed=2, logx=True, best_ylim=(1.0, 3.0))
    best_ax = next(ax for ax in fig.axes if ax.get_title() == "running best")
    assert best_ax.get_ylim() == (1.0, 3.0) and best_ax.get_yscale() == "linear"


def test_comparison_figure_rejects_bad_input():
    with pytest.raises(ValueError, match="no parameter column"):
        plot_strategy_comparison(TRIALS, "nope")
    with pytest.raises(ValueError, match="no trials for seed 9"):
        plot_strategy_comparison(TRIALS, "x", seed=9)
    with pytest.raises(ValueError, match="missing"):
        plot_strategy_comparison(TRIALS.drop(columns="trial"), "x")
    with pytest.raises(ValueError, match="best_ylim"):
        plot_strategy_comparison(TRIALS, "x", best_ylim=(2.0, 1.0))


def test_seed_bands():
    fig = plot_seed_bands(TRIALS, title="t", reference=1.0)
    assert isinstance(fig, Figure) and len(fig.axes) == 2 and fig.axes[0].get_yscale() == "log"
    assert plot_seed_bands(TRIALS, best_ylim=(0.5, 3.0)).axes[0].get_ylim() == (0.5, 3.0)
    with pytest.raises(ValueError, match="best_ylim"):
        plot_seed_bands(TRIALS, best_ylim=(1.0, 1.0))
    with pytest.raises(ValueError, match="no trials"):
        plot_seed_bands(TRIALS.iloc[:0])
