"""The checks of notebooks 03, 04 and 06's exercises, each on a store built for the case: a wrong answer, or wrong
runs, caught with its sentence; a right one done."""

from __future__ import annotations

import mlflow
import optuna
import pandas as pd
import pytest
from exercise_runs import log_run
from mlflow.tracking import MlflowClient

from tutorial_utils.exercise_store import PARENT_TAG
from tutorial_utils.exercises import DONE, NOT_RIGHT, StoreView, Verdict, check_answer, exercise_verdict
from tutorial_utils.search_strategies import BRANIN_BOUNDS, branin, trials_frame, with_running_best
from tutorial_utils.tuning import suggest_catboost_params

SEEDS = (42, 43)


def _said(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


@pytest.fixture
def searches(store_for):
    """03's store, two seeds: per objective and strategy a study run with its best value and one trial; a summary."""
    store_for("search-strategies")
    best = {
        "branin": {"grid": 2.0, "random": 1.0, "tpe": 0.5},
        "catboost": {"grid": 0.13, "random": 0.12, "tpe": 0.125},  # TPE wins seed 43 (below), random seed 42
    }
    for objective, by_strategy in best.items():
        for strategy, value in by_strategy.items():
            for seed in SEEDS:
                won = value - 0.01 if (objective, strategy, seed) == ("catboost", "tpe", 43) else value
                with mlflow.start_run(run_name=f"{objective}-{strategy}-seed{seed}"):
                    mlflow.log_params({"objective": objective, "strategy": strategy, "seed": seed})
                    mlflow.log_metric("best_value", won)
                    trial = {"p_x1": 9.4, "p_x2": 2.5} if objective == "branin" else {"p_depth": 6}
                    log_run("trial-000", m_value=won, **trial)
    log_run("summary", p_n_trials=6, p_n_seeds=len(SEEDS), p_strategies="grid,random,tpe")


def test_the_medians_of_tpe_with_five_start_up_trials(searches, capsys):
    studies = {}
    for seed in SEEDS:  # the notebook's way: trials_frame and with_running_best
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=5))
        study.optimize(lambda t: float(branin(*(t.suggest_float(n, *b) for n, b in BRANIN_BOUNDS.items()))), n_trials=6)
        studies["tpe, 5 start-up", seed] = study
    medians = with_running_best(trials_frame(studies)).groupby("trial")["running_best"].median().to_dict()
    check_answer("03.1", {5: medians[5] + 1, 6: medians[6]})
    check_answer("03.1", {36: 1.0})
    check_answer("03.1", {5: medians[5]})  # the start-up trials alone: every strategy's, not yet TPE's own
    check_answer("03.1", {trials: round(value, 3) for trials, value in medians.items()})  # as the notebook shows them
    assert _said(capsys) == [
        "Exercise 03.1: not right yet. The median running best after 5 trials is not that of TPE with 5 start-up "
        "trials over this execution's seeds.",
        "Exercise 03.1: not right yet. Give the medians by number of trials, up to the last (6).",
        "Exercise 03.1: not right yet. Give the medians by number of trials, up to the last (6).",
        "Exercise 03.1: done.",
    ]


def test_the_seeds_each_strategy_won(searches, capsys):
    check_answer("03.2", {"branin": {"tpe": 2}, "catboost": {"tpe": 2}})
    check_answer("03.2", {"branin": {"tpe": 2, "grid": 0}, "catboost": pd.Series({"random": 1, "tpe": 1})})
    assert _said(capsys) == [
        "Exercise 03.2: not right yet. The seeds won by each strategy are not right for catboost.",
        "Exercise 03.2: done.",
    ]


def test_the_lowest_value_and_the_best_branin_trial(searches, capsys):
    check_answer("03.3", {"objective": "branin", "branin_value": 0.5})
    check_answer("03.3", {"objective": "catboost", "branin_value": 0.3979})
    check_answer("03.3", pd.Series({"objective": "catboost", "branin_value": 0.5}))
    assert _said(capsys) == [
        "Exercise 03.3: not right yet. `objective` is not the param of the study that holds the lowest `value`.",
        "Exercise 03.3: not right yet. `branin_value` is not the lowest value of any Branin trial.",
        "Exercise 03.3: done.",
    ]


def _study(suggest) -> optuna.Study:
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(lambda trial: float(len(suggest(trial))), n_trials=2)
    return study


def test_the_wide_space_must_reach_its_new_bounds(store_for, capsys):
    store_for("diamonds-price")

    def wide(trial):
        return {
            "depth": trial.suggest_int("depth", 4, 10),
            "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.5, log=True),
            "subsample": trial.suggest_float("subsample", 0.3, 1.0),
        }

    check_answer("04.1", 0.1061)
    check_answer("04.1", _study(suggest_catboost_params))
    check_answer("04.1", _study(wide))
    assert _said(capsys) == [
        "Exercise 04.1: not right yet. Give the wide study itself, an optuna.Study with complete trials.",
        "Exercise 04.1: not right yet. The study's space must reach depth 10, a learning rate of 0.5 and a subsample "
        "of 0.3.",
        "Exercise 04.1: done.",
    ]


@pytest.mark.parametrize(
    ("children", "hint"),
    [
        ([{}], "No child run of `exercise-pruning` ended as a trial stopped on purpose: was any pruned?"),
        (
            [{"status": "KILLED", "t_pruner": "MedianPruner"}],
            "Each KILLED child run needs a tag that says its trial was pruned.",
        ),
        ([{}, {"status": "KILLED"}], "Each KILLED child run needs a tag that says its trial was pruned."),
        ([], "The run `exercise-pruning` needs a finished study with a child run per trial."),
    ],
)
def test_pruned_trials_that_do_not_show_in_the_runs(store_for, children, hint):
    store_for("diamonds-price")
    with mlflow.start_run(run_name="exercise-pruning"):
        for number, child in enumerate(children):
            log_run(f"trial-{number}", **child)
    assert exercise_verdict(StoreView(), "04.2") == Verdict("04.2", NOT_RIGHT, hint)
    with mlflow.start_run(run_name="exercise-pruning"):
        log_run("trial-0")
        log_run("trial-1", status="KILLED", t_optuna_state="PRUNED")
    assert exercise_verdict(StoreView(), "04.2").status == DONE


def test_the_best_tenth_against_the_others(store_for, capsys):
    store_for("diamonds-price")
    space = {"depth": {"name": "IntDistribution", "attributes": {"low": 4, "high": 8, "log": False, "step": 1}}}
    with mlflow.start_run(run_name="catboost-optuna"):
        mlflow.log_dict({"distributions": space}, "study/search_space.json")
        for number in range(10):
            log_run(f"trial-{number:02d}", p_depth=4 + number % 5, m_val_rmse=0.1 + number / 100)
    right = pd.DataFrame(
        {"low": [4], "high": [8], "best tenth (median)": [4.0], "the others (median)": [6.0]}, index=["depth"]
    )
    check_answer("04.3", right.drop(columns="low"))
    check_answer("04.3", right.assign(**{"the others (median)": 5.5}))
    check_answer("04.3", right)
    assert _said(capsys) == [
        "Exercise 04.3: not right yet. Give a table with a row per parameter of the space and the columns "
        "['low', 'high', 'best tenth (median)', 'the others (median)'].",
        "Exercise 04.3: not right yet. The column(s) ['the others (median)'] differ from the study's trials and its "
        "search space.",
        "Exercise 04.3: done.",
    ]


@pytest.fixture
def parallel_study(store_for):
    """06's parallel study: three trials by two workers, each a child run with its number and val_rmse."""
    store_for("parallel-tuning")
    with mlflow.start_run(run_name="parallel-study"):
        for number, worker in enumerate((0, 1, 0)):
            log_run(f"trial-{number}", t_worker=str(worker), p_trial_number=number, m_val_rmse=0.1 + number / 7)


def test_the_trials_per_worker_and_a_trial_run_again(parallel_study, capsys):
    check_answer("06.1", {0: 1, 1: 2})
    check_answer("06.1", pd.Series([0, 1, 0]).value_counts().reindex(range(3), fill_value=0))  # worker 2 ran none
    check_answer("06.3", {"trial": 7, "val_rmse": 0.1})
    check_answer("06.3", {"trial": 2, "val_rmse": round(0.1 + 2 / 7, 4)})
    check_answer("06.3", {"trial": "2", "val_rmse": 0.1 + 2 / 7})  # as the params column holds it
    assert _said(capsys) == [
        "Exercise 06.1: not right yet. The trials per worker are not those of the parallel study's trials.",
        "Exercise 06.1: done.",
        "Exercise 06.3: not right yet. Give the number of a trial of the parallel study as `trial`.",
        "Exercise 06.3: not right yet. `val_rmse` is not the value trial 2's child run logged.",
        "Exercise 06.3: done.",
    ]


@pytest.mark.parametrize(
    ("parent", "child", "hint"),
    [
        ("FINISHED", "FINISHED", "The broken study's parent run must end FAILED, with its trial's child run."),
        ("FAILED", "RUNNING", "A child run of the broken study ended RUNNING, not as its failed trial."),
    ],
)
def test_a_broken_study_that_did_not_fail_as_it_should(store_for, parent, child, hint):
    store_for("parallel-tuning")
    with mlflow.start_run(run_name="exercise-broken-study") as run:
        client = MlflowClient()  # a child run that stays RUNNING, as a killed worker leaves it
        trial = client.create_run(run.info.experiment_id, tags={PARENT_TAG: run.info.run_id}, run_name="trial-0")
        if child != "RUNNING":
            client.set_terminated(trial.info.run_id, child)
        if parent != "FINISHED":
            mlflow.end_run(parent)
    assert exercise_verdict(StoreView(), "06.2") == Verdict("06.2", NOT_RIGHT, hint)
