"""Item 2: milliseconds per child run (start, 6 params, 3 metrics, end) on a given tracking store."""

from __future__ import annotations

import time
from typing import Any

import mlflow

from benchmarks.stats import median, percentile
from benchmarks.stores import activate

PARAMS = {"depth": 6, "learning_rate": 0.1, "l2_leaf_reg": 3.0, "random_strength": 1.0, "subsample": 0.8, "seed": 42}
METRICS = {"val_rmse": 0.09, "fit_seconds": 2.5, "best_iteration": 299.0}


def child_run_cost(tracking_uri: str, n_children: int) -> dict[str, Any]:
    """Time `n_children` child runs under one parent on `tracking_uri`: median and p90 ms per child."""
    if n_children < 1:
        raise ValueError(f"n_children must be at least 1, got {n_children}")
    activate(tracking_uri, "bench-child-runs")
    seconds = []
    with mlflow.start_run(run_name="bench-child-runs"):
        for number in range(n_children):
            start = time.perf_counter()
            with mlflow.start_run(run_name=f"child-{number:04d}", nested=True):
                mlflow.log_params(PARAMS)
                mlflow.log_metrics(METRICS)
            seconds.append(time.perf_counter() - start)
    milliseconds = [1000 * s for s in seconds]
    return {
        "n_children": n_children,
        "median_ms": median(milliseconds),
        "p90_ms": percentile(milliseconds, 90),
    }
