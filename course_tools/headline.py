"""Each notebook's headline for the `make course` summary: one metric read back from the tracking store.

A notebook names its headline in its metadata, `{"course": {"headline": {...}}}`: a label, a metric, an MLflow
run filter and which of the matching runs counts (`min` of the metric, or the `newest` run). Nothing in the
learner's output is written for the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlflow.tracking import MlflowClient

from course_tools.notebooks import read_parameters
from tutorial_utils.runs import search_all_runs
from tutorial_utils.tracking import tracking_uri


@dataclass(frozen=True)
class Headline:
    """Which metric of which runs is a notebook's headline."""

    label: str
    metric: str
    filter: str  # an MLflow run filter naming the runs, e.g. "tags.mlflow.runName = 'catboost-tuned'"
    pick: Literal["min", "newest"]


def headline_of(notebook: Any) -> Headline | None:
    """The headline a notebook (an `nbformat` node) names in its metadata, or None; ValueError if malformed."""
    spec = notebook.metadata.get("course", {}).get("headline")
    if spec is None:
        return None
    if spec.get("pick") not in ("min", "newest"):
        raise ValueError(f"headline pick must be 'min' or 'newest', not {spec.get('pick')!r}")
    return Headline(spec["label"], spec["metric"], spec["filter"], spec["pick"])


def read_headline(headline: Headline, client: MlflowClient, experiment_name: str, since_ms: int) -> str | None:
    """`label = value` from the runs of `experiment_name` (or an attendee's "<user>/<name>") that match the
    headline's filter and started at or after `since_ms`, or None when no such run has the metric."""
    experiments = client.search_experiments(filter_string=f"name LIKE '%{experiment_name}'")
    ids = [e.experiment_id for e in experiments if e.name.rsplit("/", 1)[-1] == experiment_name]
    if not ids:
        return None
    runs = search_all_runs(
        client,
        ids,
        f"{headline.filter} AND attributes.start_time >= {since_ms}",
        order_by=["attributes.start_time DESC"],
    )
    values = [run.data.metrics[headline.metric] for run in runs if headline.metric in run.data.metrics]
    if not values:
        return None
    value = min(values) if headline.pick == "min" else values[0]
    return f"{headline.label} = {value:.4f}"


def notebook_headline(source: Path, executed: Any, since_ms: int) -> str:
    """The headline of an execution of `source` that began at `since_ms`, read from the store in force in the
    notebook's EXPERIMENT_NAME; "" when the notebook names none or its runs lack the metric."""
    headline = headline_of(executed)
    if headline is None:
        return ""
    experiment_name = read_parameters(source)["EXPERIMENT_NAME"].default
    return read_headline(headline, MlflowClient(tracking_uri()), experiment_name, since_ms) or ""
