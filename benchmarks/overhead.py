"""Item 1: what tracking every trial costs on notebook 04's study, against no tracking and the peers, on the
embedded store and (issue 19 §6) on the workshop server.

Each variant runs the same seeded TPE study on notebook 04's workload (`benchmarks.workload`); every fit is timed, so
the logging time inside the study is measured directly, apart from the fit time and its noise.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

import mlflow
import optuna
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient
from mlflow.utils.time import get_current_time_millis

from benchmarks.stats import median, ratio, timed
from benchmarks.stores import activate
from benchmarks.workload import TuningWorkload, load_workload
from course_tools.paths import environment
from tutorial_utils.tracking import experiment_name_for, setup_tracking

VARIANTS = ["none", "course", "mlflow_callback", "naive", "async"]
#: On the workshop server: the course's objective (`server`), and the same in fewer requests (`server_batched`).
SERVER_ONLY = ["server", "server_batched"]
#: The workshop server's comparison: no tracking, the course's objective on the embedded store, then `SERVER_ONLY`.
SERVER_VARIANTS = ["none", "course", *SERVER_ONLY]
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


@contextmanager
def _server_parent_run(login: Mapping[str, str], name: str) -> Iterator[None]:
    """The parent run on the workshop server, signed in with `login` (an attendee's MLFLOW_TRACKING_URI, USERNAME
    and PASSWORD, which MLflow reads from the environment on every request), then back to the embedded store."""
    embedded = mlflow.get_tracking_uri()
    try:
        with environment(**login):
            activate(login["MLFLOW_TRACKING_URI"], experiment_name_for(EXPERIMENT, login["MLFLOW_TRACKING_USERNAME"]))
            with _parent_run(name):
                yield
    finally:
        activate(embedded, EXPERIMENT)


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


def batched_objective(workload: TuningWorkload) -> Callable[[optuna.Trial], float]:
    """The course's child run in four requests instead of seven: the run; both datasets in one `log_inputs` call;
    after the fit, the params and the metric (linked to the validation dataset) in one `log_batch` call; its end."""
    train, val = workload.datasets["train"], workload.datasets["val"]

    def objective(trial: optuna.Trial) -> float:
        with mlflow.start_run(run_name=f"trial-{trial.number:02d}", nested=True) as run:
            mlflow.log_inputs([train, val], contexts=["training", "validation"], tags_list=[None, None])
            value = workload.score(trial)
            now = get_current_time_millis()
            metric = Metric("val_rmse", value, now, 0, dataset_name=val.name, dataset_digest=val.digest)
            params = [Param(name, str(param)) for name, param in workload.trial_params(trial).items()]
            MlflowClient().log_batch(run.info.run_id, metrics=[metric], params=params)
        return value

    return objective


def variant_setup(
    name: str, workload: TuningWorkload, server: Mapping[str, str] | None = None
) -> tuple[Callable[[optuna.Trial], float], list, Callable]:
    """For a variant: its objective, its Optuna callbacks, and the context (parent run) the study runs in.

    The `SERVER_ONLY` variants need `server`, an attendee's login on the workshop server (`_server_parent_run`).
    """
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
    if name in SERVER_ONLY:
        if server is None:
            raise ValueError(f"the {name!r} variant needs an attendee's login on the workshop server")
        objective = workload.tracked_objective if name == "server" else batched_objective(workload)
        return objective, [], partial(_server_parent_run, server)
    raise ValueError(f"unknown variant {name!r}; have {[*VARIANTS, *SERVER_ONLY]}")


def run_variant(name: str, workload: TuningWorkload, server: Mapping[str, str] | None = None) -> dict[str, float]:
    """One study of `N_TRIALS` with a fresh `TPESampler(seed=SEED)`: its wall seconds, best value, and the
    milliseconds per trial spent beside the fit (objective + callbacks - fit)."""
    objective, callbacks, context = variant_setup(name, workload, server)
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


def summarise(samples: dict[str, list[dict[str, float]]], n_trials: int) -> dict[str, dict[str, Any]]:
    """Per variant: median wall, ratio to `none`, logging ms per trial (beyond `none`'s median) and its share of the
    wall, each median with the lowest and highest of the repeats (`*_range`)."""
    if "none" not in samples:
        raise ValueError("the overhead summary needs the 'none' variant as its baseline")
    none_wall = median([s["wall_s"] for s in samples["none"]])
    none_beside = median([s["beside_fit_ms_per_trial"] for s in samples["none"]])
    summary = {}
    for name, runs in samples.items():
        wall = median([s["wall_s"] for s in runs])
        each_ms = [s["beside_fit_ms_per_trial"] - none_beside for s in runs]
        each_share = [ms * n_trials / 1000 / s["wall_s"] for ms, s in zip(each_ms, runs, strict=True)]
        logging_ms = median(each_ms)
        summary[name] = {
            "median_wall_s": wall,
            "ratio_to_none": ratio(wall, none_wall),
            "logging_ms_per_trial": logging_ms,
            "logging_ms_range": [min(each_ms), max(each_ms)],
            "logging_share": logging_ms * n_trials / 1000 / wall,
            "logging_share_range": [min(each_share), max(each_share)],
            "repeats": len(runs),
        }
    return summary


def measure_overhead(
    *, quick: bool, repeats: int, variants: Sequence[str] = VARIANTS, server: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Run each of `variants` (`none` first) `repeats` times, interleaved (for each repeat, each variant), on a fresh
    embedded store, and the `SERVER_ONLY` variants on the workshop server that `server` signs in to.

    Expects `COURSE_STORE_DIR` to name a fresh folder (the caller owns it).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if not variants or variants[0] != "none":
        raise ValueError(f"the variants must start with 'none', the baseline; got {list(variants)}")
    workload = load_workload(QUICK_OVERRIDES if quick else None)
    knobs = workload.knobs
    setup_tracking(EXPERIMENT, verbose=False)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name in variants:
            samples[name].append(run_variant(name, workload, server))
    return {
        "n_trials": knobs["N_TRIALS"],
        "tuning_iterations": knobs["TUNING_ITERATIONS"],
        "seed": knobs["SEED"],
        "variants": summarise(samples, knobs["N_TRIALS"]),
        "samples": samples,
    }
