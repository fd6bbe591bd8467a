"""Item 2: milliseconds per child run (start, 6 params, 3 metrics, end) on a given tracking store."""

from __future__ import annotations

from typing import Any

from benchmarks.stats import median, percentile
from benchmarks.stores import activate
from benchmarks.yardstick import child_run_seconds


def child_run_cost(tracking_uri: str, n_children: int) -> dict[str, Any]:
    """Time `n_children` child runs under one parent on `tracking_uri`: median and p90 ms per child."""
    if n_children < 1:
        raise ValueError(f"n_children must be at least 1, got {n_children}")
    activate(tracking_uri, "bench-child-runs")
    milliseconds = [1000 * s for s in child_run_seconds(n_children)]
    return {
        "n_children": n_children,
        "median_ms": median(milliseconds),
        "p90_ms": percentile(milliseconds, 90),
    }
