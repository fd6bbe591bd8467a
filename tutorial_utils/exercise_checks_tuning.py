"""The checks of the tuning notebooks' exercises: search strategies (03), Optuna with CatBoost (04), parallel
workers (06). Each compares the learner's answer with what the lesson left in the store, or recomputes it."""

from __future__ import annotations

from collections.abc import Callable
from statistics import median
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities import Run

from tutorial_utils.exercise_store import (
    DONE,
    NOT_RIGHT,
    NOT_YET,
    PARENT_TAG,
    StoreView,
    Verdict,
    as_dict,
    same_number,
)

STRATEGIES_EXPERIMENT, TUNING_EXPERIMENT, PARALLEL_EXPERIMENT = "search-strategies", "diamonds-price", "parallel-tuning"
#: How far a value may be from the truth: a value rounded to 3 decimals, as the notebooks show them, still counts.
ROUNDED = 5e-4


# ---- 03: search strategies -------------------------------------------------------------------------------------


def _summary(store: StoreView) -> Run:
    return store.lesson_run(STRATEGIES_EXPERIMENT, "summary", "03", "its studies")


def _execution_studies(store: StoreView, objective: str) -> list[Run]:
    """The study parents of `objective` that the newest execution logged: the newest strategies x seeds of them."""
    summary = _summary(store)
    count = int(summary.data.params["n_seeds"]) * len(summary.data.params["strategies"].split(","))
    studies = [
        r
        for r in store.runs(STRATEGIES_EXPERIMENT)
        if PARENT_TAG not in r.data.tags and r.data.params.get("objective") == objective
    ]
    return studies[-count:]


def _03_1(store: StoreView, answer: Any) -> Verdict:
    import optuna  # here and below, not at import: `import tutorial_utils` stays light

    from tutorial_utils.search_strategies import BRANIN_BOUNDS, branin

    n_trials = int(_summary(store).data.params["n_trials"])
    seeds = [
        int(r.data.params["seed"]) for r in _execution_studies(store, "branin") if r.data.params["strategy"] == "tpe"
    ]
    try:
        given = {int(trials): float(value) for trials, value in answer.items()}
    except (AttributeError, TypeError, ValueError):
        given = {}
    # up to the last trial: the first 5 are random start-up trials, the same for every strategy with the same seed
    if n_trials not in given or not set(given) <= set(range(1, n_trials + 1)):
        return Verdict("03.1", NOT_RIGHT, f"Give the medians by number of trials, up to the last ({n_trials}).")
    bests = []
    for seed in seeds:
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=5))
        study.optimize(
            lambda t: float(branin(*(t.suggest_float(name, *bounds) for name, bounds in BRANIN_BOUNDS.items()))),
            n_trials=n_trials,
        )
        bests.append(np.minimum.accumulate([t.value for t in study.trials]))
    wrong = [
        t for t, value in sorted(given.items()) if not same_number(value, median(b[t - 1] for b in bests), ROUNDED)
    ]
    if not wrong:
        return Verdict("03.1", DONE)
    return Verdict(
        "03.1",
        NOT_RIGHT,
        f"The median running best after {', '.join(map(str, wrong))} trials is not that of TPE with 5 start-up "
        "trials over this execution's seeds.",
    )


def _03_2(store: StoreView, answer: Any) -> Verdict:
    wrong = []
    for objective in ("branin", "catboost"):
        best = {
            (r.data.params["seed"], r.data.params["strategy"]): r.data.metrics["best_value"]
            for r in _execution_studies(store, objective)
        }
        wins: dict[str, int] = {}
        for seed in {seed for seed, _ in best}:
            winner = min((value, strategy) for (s, strategy), value in best.items() if s == seed)[1]
            wins[winner] = wins.get(winner, 0) + 1
        try:
            given = {str(strategy): int(count) for strategy, count in answer[objective].items() if count}
        except (KeyError, TypeError, AttributeError, ValueError):
            given = None
        if given != wins:
            wrong.append(objective)
    if not wrong:
        return Verdict("03.2", DONE)
    return Verdict("03.2", NOT_RIGHT, f"The seeds won by each strategy are not right for {' and '.join(wrong)}.")


def _03_3(store: StoreView, answer: Any) -> Verdict:
    trials = [r for r in store.runs(STRATEGIES_EXPERIMENT) if PARENT_TAG in r.data.tags and "value" in r.data.metrics]
    if not trials:
        raise LookupError("Run notebook 03's lesson first: the answer is checked against its trials.")
    lowest = min(trials, key=lambda r: r.data.metrics["value"])
    study = next(r for r in store.runs(STRATEGIES_EXPERIMENT) if r.info.run_id == lowest.data.tags[PARENT_TAG])
    branin_best = min(r.data.metrics["value"] for r in trials if "x1" in r.data.params)
    given = as_dict(answer)
    if given.get("objective") != study.data.params.get("objective"):
        return Verdict("03.3", NOT_RIGHT, "`objective` is not the param of the study that holds the lowest `value`.")
    if not same_number(given.get("branin_value"), branin_best, ROUNDED):
        return Verdict("03.3", NOT_RIGHT, "`branin_value` is not the lowest value of any Branin trial.")
    return Verdict("03.3", DONE)


# ---- 04: Optuna with CatBoost ----------------------------------------------------------------------------------

#: The widened space of exercise 04.1: the depth's high end, the learning rate's high end, subsample's low end.
WIDE_SPACE = {"depth": ("high", 10), "learning_rate": ("high", 0.5), "subsample": ("low", 0.3)}


def _04_1(store: StoreView, answer: Any) -> Verdict:
    import optuna

    if not isinstance(answer, optuna.Study) or not answer.get_trials(states=[optuna.trial.TrialState.COMPLETE]):
        return Verdict("04.1", NOT_RIGHT, "Give the wide study itself, an optuna.Study with complete trials.")
    reached = {
        name: {getattr(t.distributions[name], end) for t in answer.trials if name in t.distributions}
        for name, (end, _) in WIDE_SPACE.items()
    }
    if reached != {name: {bound} for name, (_, bound) in WIDE_SPACE.items()}:
        return Verdict(
            "04.1", NOT_RIGHT, "The study's space must reach depth 10, a learning rate of 0.5 and a subsample of 0.3."
        )
    return Verdict("04.1", DONE)


def _04_2(store: StoreView) -> Verdict:
    parent = store.newest(TUNING_EXPERIMENT, "exercise-pruning")
    if parent is None:
        return Verdict("04.2", NOT_YET)
    children = store.children(TUNING_EXPERIMENT, parent)
    if parent.info.status != "FINISHED" or not children:
        return Verdict(
            "04.2", NOT_RIGHT, "The run `exercise-pruning` needs a finished study with a child run per trial."
        )
    killed = [c for c in children if c.info.status == "KILLED"]
    if not killed:
        return Verdict(
            "04.2", NOT_RIGHT, "No child run of `exercise-pruning` ended as a trial stopped on purpose: was any pruned?"
        )

    def says_pruned(run: Run) -> bool:
        mine = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
        return any("pruned" in f"{k} {v}".lower() for k, v in mine.items())

    if not all(says_pruned(c) for c in killed):
        return Verdict("04.2", NOT_RIGHT, "Each KILLED child run needs a tag that says its trial was pruned.")
    return Verdict("04.2", DONE)


SEPARATION_COLUMNS = ["low", "high", "best tenth (median)", "the others (median)"]


def _04_3(store: StoreView, answer: Any) -> Verdict:
    parent = store.lesson_run(TUNING_EXPERIMENT, "catboost-optuna", "04", "its study")
    trials = sorted(
        (c for c in store.children(TUNING_EXPERIMENT, parent) if c.info.run_name.startswith("trial-")),
        key=lambda c: c.data.metrics["val_rmse"],
    )
    design = mlflow.artifacts.load_dict(f"{parent.info.artifact_uri}/study/search_space.json")
    space = {name: spec["attributes"] for name, spec in design["distributions"].items() if "low" in spec["attributes"]}
    best = max(1, len(trials) // 10)
    values = pd.DataFrame([{name: float(t.data.params[name]) for name in space} for t in trials])
    truth = pd.DataFrame(
        {
            "low": [space[name]["low"] for name in space],
            "high": [space[name]["high"] for name in space],
            "best tenth (median)": values.head(best).median(),
            "the others (median)": values.iloc[best:].median(),
        },
        index=list(space),
    )
    if (
        not isinstance(answer, pd.DataFrame)
        or set(answer.index) != set(space)
        or set(SEPARATION_COLUMNS) - set(answer.columns)
    ):
        return Verdict(
            "04.3",
            NOT_RIGHT,
            f"Give a table with a row per parameter of the space and the columns {SEPARATION_COLUMNS}.",
        )
    given = answer.loc[list(space)].astype(float)
    wrong = [column for column in SEPARATION_COLUMNS if not np.allclose(given[column], truth[column], atol=ROUNDED)]
    if not wrong:
        return Verdict("04.3", DONE)
    return Verdict("04.3", NOT_RIGHT, f"The column(s) {wrong} differ from the study's trials and its search space.")


# ---- 06: parallel workers --------------------------------------------------------------------------------------


def _parallel_children(store: StoreView) -> list[Run]:
    parent = store.lesson_run(PARALLEL_EXPERIMENT, "parallel-study", "06", "its parallel study")
    return store.children(PARALLEL_EXPERIMENT, parent)


def _06_1(store: StoreView, answer: Any) -> Verdict:
    counts: dict[int, int] = {}
    for child in _parallel_children(store):
        worker = int(child.data.tags["worker"])
        counts[worker] = counts.get(worker, 0) + 1
    try:
        given = {int(worker): int(count) for worker, count in answer.items() if count}
    except (AttributeError, TypeError, ValueError):
        given = {}
    if given == counts:
        return Verdict("06.1", DONE)
    return Verdict("06.1", NOT_RIGHT, "The trials per worker are not those of the parallel study's trials.")


def _06_2(store: StoreView) -> Verdict:
    parent = store.newest(PARALLEL_EXPERIMENT, "exercise-broken-study")
    if parent is None:
        return Verdict("06.2", NOT_YET)
    children = store.children(PARALLEL_EXPERIMENT, parent)
    if parent.info.status != "FAILED" or not children:
        return Verdict("06.2", NOT_RIGHT, "The broken study's parent run must end FAILED, with its trial's child run.")
    left = sorted({c.info.status for c in children} - {"FAILED"})
    if left:
        return Verdict("06.2", NOT_RIGHT, f"A child run of the broken study ended {left[0]}, not as its failed trial.")
    return Verdict("06.2", DONE)


def _06_3(store: StoreView, answer: Any) -> Verdict:
    logged = {
        int(c.data.params["trial_number"]): c.data.metrics.get("val_rmse")
        for c in _parallel_children(store)
        if "trial_number" in c.data.params
    }
    given = as_dict(answer)
    try:
        trial = int(given.get("trial"))
    except (TypeError, ValueError):
        trial = None
    if trial not in logged:
        return Verdict("06.3", NOT_RIGHT, "Give the number of a trial of the parallel study as `trial`.")
    if not same_number(given.get("val_rmse"), logged[trial], 0.0):
        return Verdict("06.3", NOT_RIGHT, f"`val_rmse` is not the value trial {trial}'s child run logged.")
    return Verdict("06.3", DONE)


RUN_CHECKS: dict[str, Callable[[StoreView], Verdict]] = {"04.2": _04_2, "06.2": _06_2}
ANSWER_CHECKS: dict[str, Callable[[StoreView, Any], Verdict]] = {
    "03.1": _03_1,
    "03.2": _03_2,
    "03.3": _03_3,
    "04.1": _04_1,
    "04.3": _04_3,
    "06.1": _06_1,
    "06.3": _06_3,
}
