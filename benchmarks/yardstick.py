"""A yardstick of the machine's speed: the first of the benchmarks (`make bench`), or on its own.

On the course's 2-core machine type, unchanged notebooks ran 30% to 50% slower, and a child run took twice as long,
in one session than in another a few hours before. Two fixed workloads, timed alongside a measurement, say how fast
the machine was: a CatBoost fit (the CPU) and child runs on a fresh SQLite store (the tracking store's disk).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import mlflow
import numpy as np
from catboost import CatBoostRegressor

from tutorial_utils.tracking import ensure_store, quiet_mlflow

#: The fixed CPU workload: a seeded CatBoost fit of this many trees on this many random rows of 8 features.
FIT_TREES, FIT_ROWS, FIT_THREADS = 200, 20_000, 2
#: What each yardstick child run logs: the size of one trial of notebook 04.
CHILD_PARAMS = {"depth": 6, "learning_rate": 0.1, "l2_leaf_reg": 3.0, "random_strength": 1.0, "subsample": 0.8}
CHILD_METRICS = {"val_rmse": 0.09, "fit_seconds": 2.5, "best_iteration": 299.0}


def child_run_seconds(n_children: int) -> list[float]:
    """Seconds of each of `n_children` child runs (start, 6 params, 3 metrics, end) under one parent run, on the
    tracking store and experiment in force. Raises ValueError when `n_children` is not positive."""
    if n_children < 1:
        raise ValueError(f"n_children must be at least 1, got {n_children}")
    seconds = []
    with mlflow.start_run(run_name="yardstick-child-runs"):
        for number in range(n_children):
            start = time.perf_counter()
            with mlflow.start_run(run_name=f"child-{number:04d}", nested=True):
                mlflow.log_params({**CHILD_PARAMS, "number": number})
                mlflow.log_metrics(CHILD_METRICS)
            seconds.append(time.perf_counter() - start)
    return seconds


def fit_seconds(repeats: int = 3) -> float:
    """Median seconds of the fixed CatBoost fit over `repeats` (at least 1)."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    rng = np.random.default_rng(0)
    X = rng.random((FIT_ROWS, 8))
    y = X @ rng.random(8) + 0.1 * rng.standard_normal(FIT_ROWS)
    samples = []
    for _ in range(repeats):
        model = CatBoostRegressor(
            iterations=FIT_TREES,
            depth=6,
            random_seed=0,
            thread_count=FIT_THREADS,
            verbose=False,
            allow_writing_files=False,
        )
        start = time.perf_counter()
        model.fit(X, y)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


@dataclass(frozen=True)
class Yardstick:
    """The two workloads' medians: seconds of the CatBoost fit, milliseconds of a child run on SQLite."""

    fit_s: float
    child_run_ms: float

    def describe(self) -> str:
        """One sentence naming both workloads and their times."""
        return (
            f"yardstick (`python -m benchmarks.yardstick`): a fixed CatBoost fit ({FIT_TREES} trees, "
            f"{FIT_ROWS:,} rows, {FIT_THREADS} threads) {self.fit_s:.2f} s, a child run on a fresh SQLite store "
            f"{self.child_run_ms:.1f} ms"
        )


def measure(n_children: int = 50, fit_repeats: int = 3) -> Yardstick:
    """Both workloads, the child runs on a throw-away SQLite store (which stays MLflow's tracking URI: run this in a
    process of its own, `python -m benchmarks.yardstick`)."""
    quiet_mlflow()
    with tempfile.TemporaryDirectory(prefix="yardstick-") as scratch:
        uri = f"sqlite:///{Path(scratch) / 'mlflow.db'}"
        ensure_store(uri)  # the tables are created before anything is timed
        mlflow.set_tracking_uri(uri)
        mlflow.set_experiment("yardstick")
        child_ms = 1000 * statistics.median(child_run_seconds(n_children))
    return Yardstick(fit_seconds(fit_repeats), child_ms)


def measure_elsewhere(*, quick: bool = False) -> Yardstick:
    """`measure` in a fresh Python process, so this one's tracking set-up is left alone; `quick`: 1 fit, 10 runs."""
    command = [sys.executable, "-m", __name__, "--json", *(["--quick"] if quick else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return Yardstick(**json.loads(done.stdout.splitlines()[-1]))


def main(argv: list[str]) -> None:
    """`python -m benchmarks.yardstick [--json] [--quick]`: print the sentence, or the numbers as JSON."""
    unknown = set(argv) - {"--json", "--quick"}
    if unknown:
        raise SystemExit(f"usage: python -m benchmarks.yardstick [--json] [--quick]; unknown {sorted(unknown)}")
    stick = measure(n_children=10, fit_repeats=1) if "--quick" in argv else measure()
    print(json.dumps(asdict(stick)) if "--json" in argv else stick.describe())


if __name__ == "__main__":
    main(sys.argv[1:])
