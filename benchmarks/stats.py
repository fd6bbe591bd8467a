"""Small, pure statistics for timings: medians, percentiles, ratios, and a timer that collects durations."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

import numpy as np


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence; ValueError names the empty case."""
    if not values:
        raise ValueError("median of no values: the benchmark measured nothing")
    return statistics.median(values)


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100, linear interpolation between sorted values)."""
    if not values:
        raise ValueError("percentile of no values: the benchmark measured nothing")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0-100, got {q}")
    return float(np.percentile(values, q))


def ratio(value: float, baseline: float) -> float:
    """`value / baseline`, refusing a baseline that is not positive."""
    if baseline <= 0:
        raise ValueError(f"ratio to a baseline of {baseline}: the baseline must be positive")
    return value / baseline


def timed(func: Callable[..., Any], durations: list[float]) -> Callable[..., Any]:
    """`func`, wrapped so that each call appends its duration in seconds to `durations`."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            durations.append(time.perf_counter() - start)

    return wrapper
