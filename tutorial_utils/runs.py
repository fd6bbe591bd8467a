"""Runs read back from the tracking store: every run matching a query, page by page, and a tidy table of them."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pandas as pd
from mlflow.entities import Metric, Run, ViewType
from mlflow.tracking import MlflowClient

PAGE_SIZE = 1000


def search_all_runs(
    client: MlflowClient,
    experiment_ids: Sequence[str],
    filter_string: str = "",
    *,
    order_by: Sequence[str] = ("attributes.start_time ASC",),
    view_type: int = ViewType.ACTIVE_ONLY,
) -> list[Run]:
    """Every run of the experiments that matches `filter_string`, oldest first by default, read page by page.

    `MlflowClient.search_runs` returns one page (at most 1000 runs on a SQLite store); this follows its page
    tokens to the end. `view_type=ViewType.ALL` includes deleted runs.
    """
    found: list[Run] = []
    token = None
    while True:
        page = client.search_runs(
            list(experiment_ids),
            filter_string,
            run_view_type=view_type,
            max_results=PAGE_SIZE,
            order_by=list(order_by),
            page_token=token,
        )
        found.extend(page)
        token = page.token
        if not token:
            return found


def runs_table(runs: pd.DataFrame, params: list[str], metrics: list[str], *, decimals: int = 4) -> pd.DataFrame:
    """A `mlflow.search_runs` frame reduced to run name, status, the given params and metrics (no ids, times).

    Columns lose their `params.` / `metrics.` prefixes; metrics are rounded to `decimals`.
    Raises KeyError naming any requested column the frame does not have.
    """
    wanted = {"tags.mlflow.runName": "run", "status": "status"}
    wanted |= {f"params.{name}": name for name in params} | {f"metrics.{name}": name for name in metrics}
    missing = [column for column in wanted if column not in runs.columns]
    if missing:
        raise KeyError(f"the runs frame has no column(s) {missing}; it has {sorted(runs.columns)}")
    table = runs[list(wanted)].rename(columns=wanted).reset_index(drop=True)
    for name in params:  # MLflow stores params as strings: show numbers as (rounded) numbers
        try:
            table[name] = pd.to_numeric(table[name])
        except (ValueError, TypeError):
            continue
    table[metrics] = table[metrics].astype("float64")
    return table.round(decimals)


def stepped_metric(key: str, values: Sequence[float], steps: Sequence[int] | None = None) -> list[Metric]:
    """A metric's history as MLflow `Metric`s for one `MlflowClient.log_batch` call: value i at step i, or at
    `steps[i]`. The MLflow UI draws such a metric as a line over its steps.

    Raises ValueError for no values, for as many steps as values, or for a value that is not finite.
    """
    steps = range(len(values)) if steps is None else steps
    if not len(values) or len(steps) != len(values):
        raise ValueError(f"{key}: need one step per value and at least one value, got {len(values)} and {len(steps)}")
    now = int(time.time() * 1000)
    metrics = [Metric(key, float(value), now, int(step)) for value, step in zip(values, steps, strict=True)]
    if not all(abs(m.value) < float("inf") for m in metrics):
        raise ValueError(f"{key}: every value must be a finite number")
    return metrics
