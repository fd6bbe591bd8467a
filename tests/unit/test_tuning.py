"""Unit tests of tutorial_utils.tuning: the trials table, the text progress bar."""

from __future__ import annotations

import io

import optuna
import pandas as pd
import pytest

from tutorial_utils.tuning import TrialProgressBar, trials_table

optuna.logging.set_verbosity(optuna.logging.ERROR)


def _study(values: list[float | None], direction: str = "minimize") -> optuna.Study:
    """A study whose trial i sets x = i and returns values[i] (None: the trial fails)."""
    study = optuna.create_study(direction=direction, sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial: optuna.Trial) -> float:
        trial.suggest_int("x", 0, 100)
        if values[trial.number] is None:
            raise RuntimeError("planned failure")
        return values[trial.number]

    for number in range(len(values)):
        study.enqueue_trial({"x": number})
    study.optimize(objective, n_trials=len(values), catch=(RuntimeError,))
    return study


def test_trials_table_lists_every_trial_without_times():
    table = trials_table(_study([0.3, None, 0.123456]))
    assert list(table.columns) == ["state", "value", "x"]
    assert table.index.tolist() == [0, 1, 2]
    assert table["state"].tolist() == ["COMPLETE", "FAIL", "COMPLETE"]
    assert table.loc[2, "value"] == 0.1235
    assert pd.isna(table.loc[1, "value"])


@pytest.mark.parametrize(("direction", "order"), [("minimize", [2, 0, 1]), ("maximize", [0, 2, 1])])
def test_trials_table_sorts_best_first_and_failures_last(direction, order):
    table = trials_table(_study([0.3, None, 0.1], direction), sort=True)
    assert table.index.tolist() == order


def test_trials_table_refuses_an_empty_study():
    with pytest.raises(ValueError, match="no trials"):
        trials_table(optuna.create_study())


def test_progress_bar_counts_trials_and_shows_the_best():
    out = io.StringIO()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    bar = TrialProgressBar(3, file=out)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3, callbacks=[bar])
    assert bar.bar.n == 3
    assert "3/3" in out.getvalue()
    assert f"best {study.best_value:.4f} (trial {study.best_trial.number})" in out.getvalue()


def test_progress_bar_survives_failed_trials_only():
    out = io.StringIO()
    bar = TrialProgressBar(2, file=out)
    _study([None, None]).optimize(lambda t: 1 / 0, n_trials=2, catch=(ZeroDivisionError,), callbacks=[bar])
    assert bar.bar.n == 2 and "best" not in out.getvalue()


@pytest.mark.parametrize("n_trials", [0, -1])
def test_progress_bar_refuses_no_trials(n_trials):
    with pytest.raises(ValueError, match="at least 1"):
        TrialProgressBar(n_trials, file=io.StringIO())
