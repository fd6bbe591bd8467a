"""Item 6: do two fresh executions of notebook 04 agree to the last digit, and which settings change the study?"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import optuna
from mlflow.tracking import MlflowClient

from benchmarks.stores import sqlite_uri
from benchmarks.workload import STUDY_NOTEBOOK, TuningWorkload, load_workload
from course_tools.notebooks import execute_notebook, small_budget
from course_tools.paths import store_environment
from tutorial_utils.tracking import quiet_mlflow

#: (CatBoost thread_count, Optuna n_jobs) settings compared with the notebook's own (THREAD_COUNT, 1).
SETTINGS = [(1, 1), (2, 1), (-1, 1), (2, 2)]


def fingerprint(outcome: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of an outcome (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(outcome, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def best_model_outcome(tracking_uri: str) -> dict[str, Any]:
    """The best parameters (`best_*` params) of the one run tagged `best_model = true`, and the `test_rmse` of its
    final model's run (its child `catboost-tuned`)."""
    client = MlflowClient(tracking_uri)
    experiment_ids = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(experiment_ids, filter_string="tags.best_model = 'true'")
    if len(runs) != 1:
        raise RuntimeError(f"expected one run tagged best_model in a fresh store, found {len(runs)}")
    refits = client.search_runs(
        experiment_ids,
        filter_string=f"tags.mlflow.parentRunId = '{runs[0].info.run_id}' AND tags.mlflow.runName = 'catboost-tuned'",
    )
    if len(refits) != 1:
        raise RuntimeError(f"expected one final-model run under the tagged study, found {len(refits)}")
    best = {name: value for name, value in runs[0].data.params.items() if name.startswith("best_")}
    return {"best_params": best, "test_rmse": refits[0].data.metrics["test_rmse"]}


def execute_fresh(parameters: dict[str, Any]) -> dict[str, Any]:
    """Execute notebook 04 from a cold kernel on a fresh store; return its outcome and fingerprint."""
    with tempfile.TemporaryDirectory() as scratch, store_environment(Path(scratch)):
        execute_notebook(STUDY_NOTEBOOK, Path(scratch) / STUDY_NOTEBOOK.name, parameters, progress_bar=False)
        outcome = best_model_outcome(sqlite_uri(Path(scratch)))
    return {**outcome, "sha256": fingerprint(outcome)}


def setting_study(workload: TuningWorkload, thread_count: int, n_jobs: int) -> dict[str, Any]:
    """A short seeded study (REPRO_TRIALS x REPRO_ITERATIONS trees) at one thread count and `n_jobs`."""
    knobs = workload.knobs
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=knobs["SEED"]))
    study.optimize(
        lambda trial: workload.score(trial, knobs["REPRO_ITERATIONS"], thread_count),
        n_trials=knobs["REPRO_TRIALS"],
        n_jobs=n_jobs,
    )
    outcome = {"best_params": study.best_params, "best_value": study.best_value}
    return {"thread_count": thread_count, "n_jobs": n_jobs, **outcome, "sha256": fingerprint(outcome)}


def measure_repro(*, quick: bool) -> dict[str, Any]:
    """Two fresh executions of notebook 04 (small budget when `quick`), then the settings comparison."""
    quiet_mlflow()
    parameters = small_budget(STUDY_NOTEBOOK) if quick else {}
    executions = [execute_fresh(parameters) for _ in range(2)]
    workload = load_workload(parameters)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    reference = setting_study(workload, workload.knobs["THREAD_COUNT"], 1)
    settings = [setting_study(workload, threads, jobs) for threads, jobs in SETTINGS]
    for setting in settings:
        setting["same_as_reference"] = setting["sha256"] == reference["sha256"]
    return {
        "parameters": parameters,
        "executions": executions,
        "identical": executions[0]["sha256"] == executions[1]["sha256"],
        "reference": reference,
        "settings": settings,
    }
