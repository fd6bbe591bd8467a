"""Grid, random and Bayesian search compared: a test function, grids, trial tables, running bests and figures.

The notebook runs the Optuna studies and logs them to MLflow; this module holds the numbers and pictures
around them. Every search here minimises.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

import numpy as np
import optuna
import pandas as pd
import scipy.stats
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tutorial_utils.tuning import trials_table

#: Branin (Branin-Hoo) function: the standard 2-D test function, three global minima of value 5 / (4 pi).
BRANIN_BOUNDS: dict[str, tuple[float, float]] = {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)}
BRANIN_MINIMUM = 5 / (4 * np.pi)  # 0.397887...
STRATEGY_COLOURS = {"grid": "tab:gray", "random": "tab:orange", "sobol": "tab:green", "tpe": "tab:blue"}
TRIAL_COLUMNS = ["strategy", "seed", "trial", "value"]


def branin(x1: np.ndarray | float, x2: np.ndarray | float) -> np.ndarray | float:
    """The Branin function on x1 in [-5, 10], x2 in [0, 15]; global minimum 0.397887 at three points."""
    b, c, t = 5.1 / (4 * np.pi**2), 5 / np.pi, 1 / (8 * np.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * np.cos(x1) + 10


def branin_in_five(u: list[float]) -> float:
    """Branin of u[0] and u[1], each in [0, 1] rescaled to Branin's ranges; u[2:] (three more in [0, 1]) do nothing.

    Five parameters of which two matter: the case Bergstra and Bengio argue is common in tuning.
    """
    if len(u) != 5 or not all(0.0 <= v <= 1.0 for v in u):
        raise ValueError(f"need five values in [0, 1], got {u}")
    (low1, high1), (low2, high2) = BRANIN_BOUNDS["x1"], BRANIN_BOUNDS["x2"]
    return float(branin(low1 + (high1 - low1) * u[0], low2 + (high2 - low2) * u[1]))


def grid_axes(
    bounds: Mapping[str, tuple[float, float]],
    n_trials: int,
    *,
    log: Collection[str] = (),
    integer: Collection[str] = (),
) -> dict[str, list[float] | list[int]]:
    """Evenly spaced values per parameter for Optuna's `GridSampler`, the full grid being exactly `n_trials`.

    Each of the d parameters gets k values with k**d == n_trials (a ValueError otherwise), spaced on a log
    scale for the names in `log` and rounded to distinct whole numbers for the names in `integer`.
    """
    if not bounds:
        raise ValueError("need at least one parameter")
    if unknown := (set(log) | set(integer)) - set(bounds):
        raise ValueError(f"log/integer name parameters not in bounds: {sorted(unknown)}")
    k = round(n_trials ** (1 / len(bounds)))
    if n_trials < 1 or k ** len(bounds) != n_trials:
        raise ValueError(
            f"a full grid over {len(bounds)} parameters needs a perfect power of {len(bounds)}, not {n_trials}"
        )
    axes: dict[str, list[float] | list[int]] = {}
    for name, (low, high) in bounds.items():
        if not low < high or (name in log and low <= 0):
            raise ValueError(f"{name}: need low < high (and low > 0 on a log scale), got ({low}, {high})")
        values = np.geomspace(low, high, k) if name in log else np.linspace(low, high, k)
        values = np.clip(values, low, high)  # no rounding error outside the range Optuna will check
        if name in integer:
            whole = sorted({round(v) for v in values})
            if len(whole) != k:
                raise ValueError(f"{name}: ({low}, {high}) holds fewer than {k} whole numbers")
            axes[name] = whole
        else:
            axes[name] = [float(v) for v in values]
    return axes


def trials_frame(studies: Mapping[tuple[str, int], optuna.Study]) -> pd.DataFrame:
    """One row per finished trial of the studies, keyed by (strategy, seed): strategy, seed, trial (counted from 1),
    value, params. Each study's rows are its `trials_table`. Raises ValueError when no trial finished."""
    frames = []
    for (strategy, seed), study in studies.items():
        if not study.trials:
            continue
        table = trials_table(study, decimals=None).reset_index()
        table = table[table["state"] == "COMPLETE"].drop(columns="state")
        frames.append(table.assign(strategy=strategy, seed=seed, trial=table["trial"] + 1))
    if all(frame.empty for frame in frames):
        raise ValueError("the studies hold no finished trial")
    trials = pd.concat(frames, ignore_index=True)
    return trials[[*TRIAL_COLUMNS, *(c for c in trials.columns if c not in TRIAL_COLUMNS)]]


def _checked(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials sorted by strategy, seed and trial; ValueError if a column is missing or it is empty."""
    if missing := set(TRIAL_COLUMNS) - set(trials.columns):
        raise ValueError(f"trials need the columns {TRIAL_COLUMNS}; missing {sorted(missing)}")
    if trials.empty:
        raise ValueError("no trials")
    return trials.sort_values(["strategy", "seed", "trial"], kind="stable")


def running_best(values: np.ndarray | list[float]) -> np.ndarray:
    """The best (lowest) value seen after each trial."""
    values = np.asarray(values, dtype="float64")
    if values.ndim != 1 or values.size == 0 or np.isnan(values).any():
        raise ValueError("need a non-empty 1-D sequence of numbers")
    return np.minimum.accumulate(values)


def with_running_best(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials with two more columns per (strategy, seed): `running_best` and `cumulative` value."""
    trials = _checked(trials).copy()
    groups = trials.groupby(["strategy", "seed"], sort=False)["value"]
    trials["running_best"] = groups.cummin()
    trials["cumulative"] = groups.cumsum()
    return trials


def trials_to_within(
    trials: pd.DataFrame, tolerances: tuple[float, ...] = (0.01, 0.1), *, target: float | None = None
) -> pd.DataFrame:
    """Per strategy: how many trials it takes to come within each relative tolerance of `target`.

    `target` is the known minimum when there is one; without it, the best value any run found.

    Columns: the median over seeds of the best value, then per tolerance how many seeds got within it and
    the median number of trials they needed ("never" when fewer than half the seeds got there: a seed that
    never does counts as infinitely many trials). Rows in the order the strategies first appear.
    """
    if not tolerances or any(t < 0 for t in tolerances):
        raise ValueError(f"need one or more tolerances, none negative, got {tolerances}")
    trials = _checked(trials)
    best = float(trials["value"].min()) if target is None else target
    rows = {}
    for strategy in pd.unique(trials["strategy"]):
        own = trials[trials["strategy"] == strategy]
        row: dict[str, str | float] = {
            "median best value": round(float(own.groupby("seed")["value"].min().median()), 4)
        }
        for tolerance in tolerances:
            target, needed = best + tolerance * abs(best), []
            for _, seed_trials in own.groupby("seed"):
                hit = seed_trials.loc[seed_trials["value"] <= target, "trial"]
                needed.append(float(hit.min()) if len(hit) else np.inf)
            median = float(np.median(needed))
            row[f"seeds within {tolerance:.0%}"] = f"{sum(np.isfinite(needed))}/{len(needed)}"
            row[f"trials to {tolerance:.0%} (median)"] = f"{median:g}" if np.isfinite(median) else "never"
        rows[strategy] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "strategy"
    return table


def median_gaps(
    trials: pd.DataFrame, against: str = "tpe", *, confidence: float = 0.95, n_resamples: int = 10_000, seed: int = 0
) -> pd.DataFrame:
    """Per strategy: the median over seeds of its best value, and its gap to `against`'s median, with an interval.

    The interval is a percentile bootstrap of the difference of the two medians (`scipy.stats.bootstrap`, the
    seeds resampled independently for each strategy). When it excludes 0 the data say which strategy ends lower;
    when it holds 0 they do not tell the two apart. A deterministic strategy has one best value on every seed.
    """
    best = _checked(trials).groupby(["strategy", "seed"], sort=False)["value"].min()
    if against not in best.index.get_level_values("strategy"):
        raise ValueError(f"no trials of {against!r} to compare with")
    base = best.loc[against].to_numpy()
    if len(base) < 2:
        raise ValueError(f"need at least two seeds of {against!r} for an interval, got {len(base)}")
    gap, span, verdict = f"gap to {against}", f"{confidence:.0%} interval", "the data say"
    rows = {}
    for strategy in pd.unique(trials["strategy"]):
        own = best.loc[strategy].to_numpy()
        row: dict[str, object] = {"seeds": len(own), "median best value": round(float(np.median(own)), 4)}
        row.update({gap: "", span: "", verdict: ""})
        if strategy != against:
            interval = scipy.stats.bootstrap(
                (own, base),
                lambda a, b, axis=-1: np.median(a, axis=axis) - np.median(b, axis=axis),
                n_resamples=n_resamples,
                confidence_level=confidence,
                method="percentile",
                rng=np.random.default_rng(seed),
            ).confidence_interval
            low, high = float(interval.low), float(interval.high)
            lower = against if low > 0 else strategy if high < 0 else None
            row[gap] = round(float(np.median(own) - np.median(base)), 4)
            row[span] = f"[{low:.3f}, {high:.3f}]"
            row[verdict] = f"{lower} ends lower" if lower else "no clear difference"
        rows[strategy] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "strategy"
    return table


def _strategy_axes(fig: Figure, n: int) -> tuple[list[Axes], list[Axes]]:
    top = fig.subfigures(2, 1, height_ratios=[1.1, 1])
    return list(np.atleast_1d(top[0].subplots(1, n, sharex=True, sharey=True))), list(top[1].subplots(1, 3))


def plot_strategy_comparison(
    trials: pd.DataFrame,
    x: str,
    y: str | None = None,
    *,
    seed: int | None = None,
    title: str = "",
    logx: bool = False,
    background: Callable[[Axes], None] | None = None,
    best_ylim: tuple[float, float] | None = None,
) -> Figure:
    """One seed's studies, one figure: where each strategy sampled (coloured by trial), and per trial the value,
    the running best and the cumulative value.

    `x` (and `y`, for a 2-D space) name the parameter columns; without `y` the value is the vertical axis.
    `background(ax)` may draw the objective's landscape under the points. Default seed: the first one.
    The running best is on a log scale, or on a linear one between `best_ylim` when given.
    """
    trials = with_running_best(trials)
    for column in (x, y):
        if column is not None and column not in trials.columns:
            raise ValueError(f"no parameter column {column!r} in the trials")
    seed = int(trials["seed"].iloc[0]) if seed is None else seed
    trials = trials[trials["seed"] == seed]
    if trials.empty:
        raise ValueError(f"no trials for seed {seed}")
    strategies = list(pd.unique(trials["strategy"]))
    fig = Figure(figsize=(4.2 * max(3, len(strategies)), 7.6), layout="constrained")
    fig.suptitle(f"{title} (seed {seed})".strip())
    space_axes, (value_ax, best_ax, total_ax) = _strategy_axes(fig, len(strategies))
    for ax, strategy in zip(space_axes, strategies, strict=True):
        own = trials[trials["strategy"] == strategy]
        if background is not None:
            background(ax)
        points = ax.scatter(
            own[x], own[y] if y else own["value"], c=own["trial"], cmap="viridis", edgecolors="black", linewidths=0.4
        )
        ax.set(title=f"{strategy}: where it sampled", xlabel=x, ylabel=y or "value", xscale="log" if logx else "linear")
    space_axes[-1].figure.colorbar(points, ax=space_axes, label="trial", shrink=0.9)
    for strategy in strategies:
        own = trials[trials["strategy"] == strategy]
        style = {"color": STRATEGY_COLOURS.get(strategy), "label": strategy}
        value_ax.plot(own["trial"], own["value"], marker=".", linewidth=0.8, **style)
        best_ax.plot(own["trial"], own["running_best"], drawstyle="steps-post", **style)
        total_ax.plot(own["trial"], own["cumulative"], **style)
    value_ax.set(title="value of each trial", xlabel="trial", ylabel="value", yscale="log")
    _best_axis(best_ax, best_ylim)
    total_ax.set(title="cumulative value", xlabel="trial", ylabel="sum of values so far")
    best_ax.legend()
    return fig


def _best_axis(ax: Axes, ylim: tuple[float, float] | None) -> None:
    """Label a running-best axis: log scale, or linear between `ylim` (to see small differences)."""
    if ylim is not None and not ylim[0] < ylim[1]:
        raise ValueError(f"best_ylim must be (low, high) with low < high, got {ylim}")
    ax.set(title="running best", xlabel="trial", ylabel="best value so far")
    if ylim is None:
        ax.set_yscale("log")
    else:
        ax.set_ylim(*ylim)


def plot_seed_bands(
    trials: pd.DataFrame,
    *,
    title: str = "",
    reference: float | None = None,
    best_ylim: tuple[float, float] | None = None,
) -> Figure:
    """Over all seeds: the median running best and cumulative value per strategy, with the 25-75% band.

    `reference` draws a known minimum; the running best is on a log scale, or linear between `best_ylim`.
    """
    trials = with_running_best(trials)
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    fig.suptitle(f"{title} (median and 25-75% band over {trials['seed'].nunique()} seeds)".strip())
    best_ax, total_ax = fig.subplots(1, 2)
    for strategy in pd.unique(trials["strategy"]):
        own = trials[trials["strategy"] == strategy]
        colour = STRATEGY_COLOURS.get(strategy)
        for ax, column in ((best_ax, "running_best"), (total_ax, "cumulative")):
            quantiles = own.groupby("trial")[column].quantile([0.25, 0.5, 0.75]).unstack()
            ax.plot(quantiles.index, quantiles[0.5], color=colour, label=strategy)
            ax.fill_between(quantiles.index, quantiles[0.25], quantiles[0.75], color=colour, alpha=0.2)
    if reference is not None:
        best_ax.axhline(reference, color="black", linestyle=":", linewidth=1, label="known minimum")
    _best_axis(best_ax, best_ylim)
    total_ax.set(title="cumulative value", xlabel="trial", ylabel="sum of values so far")
    best_ax.legend()
    return fig


def branin_background(ax: Axes, levels: int = 20) -> None:
    """Draw the Branin landscape (log-spaced contours) and its three minima on `ax`."""
    x1 = np.linspace(*BRANIN_BOUNDS["x1"], 200)
    x2 = np.linspace(*BRANIN_BOUNDS["x2"], 200)
    values = branin(*np.meshgrid(x1, x2))
    ax.contourf(x1, x2, np.log(values), levels=levels, cmap="Greys", alpha=0.5)
    minima = np.array([[-np.pi, 12.275], [np.pi, 2.275], [9.42478, 2.475]])
    ax.scatter(minima[:, 0], minima[:, 1], marker="*", s=120, color="tab:red", zorder=3, label="minima")
