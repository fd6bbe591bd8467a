"""Item 1: what tracking every trial costs on notebook 04's study, against no tracking and the peers.

Each variant runs the same seeded TPE study on notebook 04's workload (`benchmarks.workload`); every fit is timed, so
the logging time inside the study is measured directly, apart from the fit time and its noise.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import mlflow
import optuna

from benchmarks.stats import median, ratio, timed
from benchmarks.workload import TuningWorkload, load_workload
from tutorial_utils.tracking import setup_tracking

VARIANTS = ["none", "course", "mlflow_callback", "naive", "async"]
EXPERIMENT = "bench-overhead"
QUICK_OVERRIDES = {"N_TRIALS": 3, "TUNING_ITERATIONS": 20}


@contextmanager
def _no_parent_run(_: str) -> Iterator[None]:
    yield


@contextmanager
def _parent_run(name: str) -> Iterator[None]:
    with mlflow.start_run(run_name=name):
        yield


@contextmanager
def _async_parent_run(name: str) -> Iterator[None]:
    mlflow.config.enable_async_logging(True)
    try:
        with _parent_run(name):
            yield
    finally:
        mlflow.config.enable_async_logging(False)


def naive_objective(workload: TuningWorkload) -> Callable[[optuna.Trial], float]:
    """The course's child run, logged the naive way: one `log_param` call per value, one `log_metric`."""

    def objective(trial: optuna.Trial) -> float:
        with mlflow.start_run(run_name=f"trial-{trial.number:02d}", nested=True):
            for name, param in workload.trial_params(trial).items():  # the course's values, one call each
                mlflow.log_param(name, param)
            value = workload.score(trial)  # Optuna hands the trial's values back unchanged
            mlflow.log_metric("val_rmse", value)
        return value

    return objective


def variant_setup(name: str, workload: TuningWorkload) -> tuple[Callable[[optuna.Trial], float], list, Callable]:
    """For a variant: its objective, its Optuna callbacks, and the context (parent run) the study runs in."""
    plain = workload.score
    if name == "none":
        return plain, [], _no_parent_run
    if name == "course":
        return workload.tracked_objective, [], _parent_run
    if name == "mlflow_callback":
        from optuna_integration import MLflowCallback  # the `bench` extra, needed by this variant only

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated since optuna-integration 4.9: it is the peer all the same
            callback = MLflowCallback(metric_name="val_rmse", create_experiment=False, mlflow_kwargs={"nested": True})
        return plain, [callback], _parent_run
    if name == "naive":
        return naive_objective(workload), [], _parent_run
    if name == "async":
        return workload.tracked_objective, [], _async_parent_run
    raise ValueError(f"unknown variant {name!r}; have {VARIANTS}")


def run_variant(name: str, workload: TuningWorkload) -> dict[str, float]:
    """One study of `N_TRIALS` with a fresh `TPESampler(seed=SEED)`: its wall seconds, best value, and the
    milliseconds per trial spent beside the fit (objective + callbacks - fit)."""
    objective, callbacks, context = variant_setup(name, workload)
    objective_seconds: list[float] = []
    callback_seconds: list[float] = []
    workload.fit_seconds.clear()
    knobs = workload.knobs
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=knobs["SEED"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        with context(f"bench-{name}"):
            study.optimize(
                timed(objective, objective_seconds),
                n_trials=knobs["N_TRIALS"],
                callbacks=[timed(c, callback_seconds) for c in callbacks],
            )
        wall = time.perf_counter() - start
    n_trials = len(study.trials)
    beside_fit = (sum(objective_seconds) + sum(callback_seconds) - sum(workload.fit_seconds)) / n_trials
    return {"wall_s": wall, "beside_fit_ms_per_trial": 1000 * beside_fit, "best_value": study.best_value}


def summarise(samples: dict[str, list[dict[str, float]]], n_trials: int) -> dict[str, dict[str, float]]:
    """Per variant: median wall, ratio to `none`, logging ms per trial (beyond `none`'s) and its share of the wall."""
    if "none" not in samples:
        raise ValueError("the overhead summary needs the 'none' variant as its baseline")
    none_wall = median([s["wall_s"] for s in samples["none"]])
    none_beside = median([s["beside_fit_ms_per_trial"] for s in samples["none"]])
    summary = {}
    for name, runs in samples.items():
        wall = median([s["wall_s"] for s in runs])
        logging_ms = median([s["beside_fit_ms_per_trial"] for s in runs]) - none_beside
        summary[name] = {
            "median_wall_s": wall,
            "ratio_to_none": ratio(wall, none_wall),
            "logging_ms_per_trial": logging_ms,
            "logging_share": logging_ms * n_trials / 1000 / wall,
            "repeats": len(runs),
        }
    return summary


def measure_overhead(*, quick: bool, repeats: int) -> dict[str, Any]:
    """Run every variant `repeats` times, interleaved (for each repeat, each variant), on a fresh embedded store.

    Expects `COURSE_STORE_DIR` to name a fresh folder (the caller owns it).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    workload = load_workload(QUICK_OVERRIDES if quick else None)
    knobs = workload.knobs
    setup_tracking(EXPERIMENT, verbose=False)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
    for _ in range(repeats):
        for name in VARIANTS:
            samples[name].append(run_variant(name, workload))
    return {
        "n_trials": knobs["N_TRIALS"],
        "tuning_iterations": knobs["TUNING_ITERATIONS"],
        "seed": knobs["SEED"],
        "variants": summarise(samples, knobs["N_TRIALS"]),
        "samples": samples,
    }
