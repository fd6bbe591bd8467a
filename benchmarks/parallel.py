"""Item 5: one shared Optuna study (JournalStorage) run by 1 worker process, then by 2, as notebook 06 runs it.

Each study is what notebook 06's `run_study` does, with the same package helpers and the committed worker script
`notebooks/workers/tune_worker.py`: a parent run, the study created in the storage, one process per worker, the wall
time of the workers. Both sides get the same cores: each worker has `CORES // workers` CatBoost threads. The very
first study samples its trials (seeded TPE); every later study replays those parameters (`study.enqueue_trial`, as
the notebook's reference studies do), so all do the same work.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mlflow
import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from benchmarks.repro import fingerprint
from benchmarks.stats import median, ratio
from benchmarks.workload import notebook_knobs
from tutorial_utils.data import load_splits
from tutorial_utils.datasets import split_datasets
from tutorial_utils.parallel_tuning import WorkerResult, run_workers, worker_command, worker_env
from tutorial_utils.paths import NOTEBOOKS_DIR
from tutorial_utils.tracking import setup_tracking

PARALLEL_NOTEBOOK = NOTEBOOKS_DIR / "06_parallel_tuning.ipynb"
WORKER_SCRIPT = NOTEBOOKS_DIR / "workers" / "tune_worker.py"
WORKER_COUNTS = (1, 2)
QUICK_OVERRIDES = {"N_TRIALS": 2, "TUNING_ITERATIONS": 10}


def threads_per_worker(cores: int, workers: int) -> int:
    """CatBoost threads of each of `workers` processes sharing `cores` (at least 1), as notebook 06 computes them."""
    if cores < 1 or workers < 1:
        raise ValueError(f"cores and workers must be at least 1, got {cores} and {workers}")
    return max(1, cores // workers)


def run_study(
    knobs: dict[str, Any], experiment_id: str, name: str, workers: int, threads: int, replay: Sequence[dict[str, Any]]
) -> tuple[optuna.Study, list[WorkerResult], float]:
    """One shared study under a parent run: created in the knobs' STORAGE_URL (a journal file), `replay`ed
    parameters queued, `workers` worker processes started at once; returns the study, the workers and the wall time."""
    storage = JournalStorage(JournalFileBackend(knobs["STORAGE_URL"]))
    datasets = split_datasets(load_splits())
    with mlflow.start_run(run_name=name) as parent:
        # logged before the workers start: two workers logging a dataset new to the experiment at once race in
        # MLflow's SQL store (UNIQUE constraint failed on datasets), as notebook 06 explains
        mlflow.log_input(datasets["train"], context="training")
        mlflow.log_input(datasets["val"], context="validation")
        study = optuna.create_study(study_name=f"{name}-{parent.info.run_id}", storage=storage, direction="minimize")
        for params in replay:
            study.enqueue_trial(params)
        options = {
            "study_name": study.study_name,
            "parent_run_id": parent.info.run_id,
            "experiment_id": experiment_id,
            "seed": knobs["SEED"],
            "iterations": knobs["TUNING_ITERATIONS"],
            "thread_count": threads,
            "max_trials": len(replay) or knobs["N_TRIALS"],  # the study's total: the workers share it out as they go
        }
        commands = [worker_command(WORKER_SCRIPT, worker_index=index, **options) for index in range(workers)]
        start = time.perf_counter()
        env = worker_env(mlflow.get_tracking_uri(), threads, knobs["STORAGE_URL"])
        results = run_workers(commands, env=env, timeout=knobs["WORKER_TIMEOUT"])
        return study, results, time.perf_counter() - start


def run_sample(
    knobs: dict[str, Any], experiment_id: str, workers: int, replay: Sequence[dict[str, Any]]
) -> tuple[dict[str, Any], list]:
    """One study through `run_study`: its sample (wall and per-worker seconds, trial count, best value, fingerprint
    of the sorted trial values) and the parameters of its trials."""
    threads = threads_per_worker(knobs["CORES"], workers)
    study, results, wall = run_study(knobs, experiment_id, f"bench-{workers}-workers", workers, threads, replay)
    values = sorted(trial.value for trial in study.trials)
    sample = {
        "workers": workers,
        "threads": threads,
        "wall_s": wall,
        "worker_s": [result.seconds for result in results],
        "n_trials": len(study.trials),
        "best_value": study.best_value,
        "values_sha256": fingerprint({"values": values}),
    }
    return sample, [trial.params for trial in study.trials]


def summarise(samples: list[dict[str, dict[str, Any]]], n_trials: int) -> dict[str, Any]:
    """Median wall per worker count, speed-up (1 worker's median / 2 workers'), efficiency (speed-up / workers),
    and whether every study evaluated the same `n_trials` trials with the same values."""
    if not samples:
        raise ValueError("no parallel samples to summarise: the benchmark measured nothing")
    studies = {}
    for key in samples[0]:
        runs = [sample[key] for sample in samples]
        walls = [run["wall_s"] for run in runs]
        studies[key] = {
            "workers": runs[0]["workers"],
            "threads": runs[0]["threads"],
            "median_wall_s": median(walls),
            "min_wall_s": min(walls),
            "max_wall_s": max(walls),
        }
    parallel = studies[str(WORKER_COUNTS[-1])]
    speedup = ratio(studies[str(WORKER_COUNTS[0])]["median_wall_s"], parallel["median_wall_s"])
    runs = [run for sample in samples for run in sample.values()]
    same = all(run["n_trials"] == n_trials for run in runs) and len({run["values_sha256"] for run in runs}) == 1
    return {
        "studies": studies,
        "speedup": speedup,
        "efficiency": speedup / parallel["workers"],
        "same_trials": same,
    }


def measure_parallel(*, quick: bool, repeats: int, workdir: Path) -> dict[str, Any]:
    """`repeats` interleaved rounds of a 1-worker and a 2-worker study on a JournalStorage file in `workdir`.

    The notebook's full-budget trials and trees (quick: a tiny study), its seed, CORES = this machine's cores.
    Expects `COURSE_STORE_DIR` to name a fresh folder (the caller owns it).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    overrides = {
        **(QUICK_OVERRIDES if quick else {}),
        "CORES": os.cpu_count() or 1,
        "STORAGE_URL": str(workdir / "parallel.journal"),
    }
    knobs = notebook_knobs(PARALLEL_NOTEBOOK, overrides)
    experiment_id = setup_tracking(knobs["EXPERIMENT_NAME"], verbose=False).experiment_id
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    samples: list[dict[str, dict[str, Any]]] = []
    replay: list = []
    for _ in range(repeats):
        sample = {}
        for workers in WORKER_COUNTS:
            sample[str(workers)], params = run_sample(knobs, experiment_id, workers, replay)
            replay = replay or params  # the first study's trials, replayed by every later one
        samples.append(sample)
    return {
        "n_trials": knobs["N_TRIALS"],
        "tuning_iterations": knobs["TUNING_ITERATIONS"],
        "seed": knobs["SEED"],
        "cores": knobs["CORES"],
        **summarise(samples, knobs["N_TRIALS"]),
        "samples": samples,
    }
