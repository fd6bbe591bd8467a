"""Tuning plumbing for notebook 04: Optuna studies and MLflow child runs turned into tidy tables."""

from __future__ import annotations

import sys
from typing import TextIO

import pandas as pd
from optuna import Study
from optuna.trial import FrozenTrial, TrialState
from tqdm.std import tqdm


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


def trials_table(study: Study, *, sort: bool = False, decimals: int = 4) -> pd.DataFrame:
    """One row per trial: its number, state, value and sampled parameters (no timestamps or durations).

    `sort=True` orders by value (best first, failed trials last); numbers are rounded to `decimals`.
    Raises ValueError when the study has no trials.
    """
    trials = study.get_trials(deepcopy=False)
    if not trials:
        raise ValueError(f"study {study.study_name!r} has no trials yet: run study.optimize first")
    rows = [
        {"trial": t.number, "state": t.state.name, "value": t.value if t.values else None, **t.params} for t in trials
    ]
    table = pd.DataFrame(rows).set_index("trial")
    if sort:
        ascending = study.direction.name != "MAXIMIZE"
        table = table.sort_values("value", ascending=ascending, na_position="last", kind="stable")
    return table.round(decimals)


def runs_table(runs: pd.DataFrame, params: list[str], metrics: list[str], *, decimals: int = 4) -> pd.DataFrame:
    """A `mlflow.search_runs` frame reduced to run name, status, the given params and metrics (no ids, times).

    Columns lose their `params.` / `metrics.` prefixes; metrics are rounded to `decimals`.
    Raises KeyError naming any requested column the frame does not have.
    """
    wanted = {"tags.mlflow.runName": "run", "status": "status"}
    wanted |= {f"params.{name}": name for name in params} | {f"metrics.{name}": name for name in metrics}
    missing = [column for column in wanted if column not in runs.columns]
    if missing:
        raise KeyError(f"the runs frame has no column(s) {missing}; it has {sorted(runs.columns)}")
    table = runs[list(wanted)].rename(columns=wanted).reset_index(drop=True)
    for name in params:  # MLflow stores params as strings: show numbers as (rounded) numbers
        try:
            table[name] = pd.to_numeric(table[name])
        except (ValueError, TypeError):
            continue
    table[metrics] = table[metrics].astype("float64")
    return table.round(decimals)
