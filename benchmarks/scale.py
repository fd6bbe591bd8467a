"""Item 4: an experiment of parents x children; how fast one parent's children come back, by query and in the UI."""

from __future__ import annotations

import re
import time
from typing import Any

import mlflow
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from benchmarks.stats import median
from benchmarks.stores import activate
from course_tools.ui_browser import chromium_page, expand_parent, open_runs_page

CHILD_NAME = re.compile(r"^child-\d{4}$")


def child_name(number: int) -> str:
    """The run name of child `number` (the UI benchmark finds children by this pattern)."""
    return f"child-{number:04d}"


def populate(client: MlflowClient, experiment_id: str, n_parents: int, n_children: int, start_ms: int) -> list[str]:
    """Create `n_parents` finished parents with `n_children` finished children each (6 params, 1 metric per child).

    Children start at `start_ms` + their number; each parent starts after its children, so the UI lists it first.
    Returns the parent run ids.
    """
    if n_parents < 1 or n_children < 1:
        raise ValueError(f"need at least one parent and one child, got {n_parents} x {n_children}")
    parents = []
    for p in range(n_parents):
        parent = client.create_run(experiment_id, run_name=f"parent-{p:03d}", start_time=start_ms + n_children + 1)
        parent_id = parent.info.run_id
        for c in range(n_children):
            child = client.create_run(
                experiment_id, run_name=child_name(c), start_time=start_ms + c, tags={MLFLOW_PARENT_RUN_ID: parent_id}
            )
            params = [Param(k, str(v)) for k, v in {"depth": c % 7 + 4, "trial": c, "parent": p}.items()]
            client.log_batch(child.info.run_id, metrics=[Metric("val_rmse", 1 / (c + 1), start_ms, 0)], params=params)
            client.set_terminated(child.info.run_id)
        client.set_terminated(parent_id)
        parents.append(parent_id)
    return parents


def time_children_query(experiment_id: str, parent_ids: list[str], n_children: int) -> list[float]:
    """Seconds of `mlflow.search_runs` fetching each parent's children; RuntimeError if a count is wrong."""
    seconds = []
    for parent_id in parent_ids:
        start = time.perf_counter()
        children = mlflow.search_runs(
            experiment_ids=[experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent_id}'"
        )
        seconds.append(time.perf_counter() - start)
        if len(children) != n_children:
            raise RuntimeError(f"search_runs returned {len(children)} children of {parent_id}, expected {n_children}")
    return seconds


def measure_query(tracking_uri: str, n_parents: int, n_children: int, n_queries: int) -> dict[str, Any]:
    """Build `n_parents` x `n_children` runs on `tracking_uri`, then time the children query for `n_queries` parents."""
    experiment_id = activate(tracking_uri, "bench-scale")
    start = time.perf_counter()
    parents = populate(MlflowClient(tracking_uri), experiment_id, n_parents, n_children, int(time.time() * 1000))
    build = time.perf_counter() - start
    step = max(1, n_parents // n_queries)
    seconds = time_children_query(experiment_id, parents[::step][:n_queries], n_children)
    return {
        "runs": n_parents * (n_children + 1),
        "build_s": build,
        "queries": len(seconds),
        "median_query_s": median(seconds),
        "max_query_s": max(seconds),
    }


def measure_ui_expand(server_uri: str, n_children: int) -> dict[str, Any]:
    """On a server: one parent with `n_children`; seconds from clicking its expander until the newest child shows,
    and how many child rows the page then holds."""
    experiment_id = activate(server_uri, "bench-ui-expand")
    populate(MlflowClient(server_uri), experiment_id, 1, n_children, int(time.time() * 1000))
    with chromium_page() as page:
        open_runs_page(page, server_uri, experiment_id, "parent-000")
        seconds = expand_parent(page, "parent-000", [child_name(n_children - 1)])
        shown = page.get_by_text(CHILD_NAME).count()
    return {"children": n_children, "expand_s": seconds, "child_rows_shown": shown}
