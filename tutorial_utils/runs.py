"""Runs read back from the tracking store: every run matching a query, page by page, and a tidy table of them."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from mlflow.entities import Run, ViewType
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
