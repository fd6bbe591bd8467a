"""Exporting every run of a tracking store (a workshop's server, or the local store) to CSV files."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from mlflow.entities import Run, ViewType
from mlflow.tracking import MlflowClient

from tutorial_utils.runs import search_all_runs


def experiment_file_name(name: str) -> str:
    """A file name for an experiment's runs: `alice/diamonds-price` -> `alice__diamonds-price.csv`."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "__", name).strip("_") or "experiment"
    return f"{slug}.csv"


def runs_frame(runs: list[Run]) -> pd.DataFrame:
    """One row per run: id, name, status, lifecycle, times, then `params.*`, `metrics.*` and `tags.*` columns."""
    rows = []
    for run in runs:
        row = {
            "run_id": run.info.run_id,
            "run_name": run.info.run_name,
            "status": run.info.status,
            "lifecycle_stage": run.info.lifecycle_stage,
            "start_time": pd.to_datetime(run.info.start_time, unit="ms", utc=True),
            "end_time": pd.to_datetime(run.info.end_time, unit="ms", utc=True),
        }
        row |= {f"params.{k}": v for k, v in run.data.params.items()}
        row |= {f"metrics.{k}": v for k, v in run.data.metrics.items()}
        row |= {f"tags.{k}": v for k, v in run.data.tags.items()}
        rows.append(row)
    return pd.DataFrame(rows)


def export_runs(tracking_uri: str, destination: Path) -> pd.DataFrame:
    """Write one CSV per experiment (params, metrics, tags, status, times) into `destination`.

    Returns a summary: one row per experiment with its run count and file name. Deleted experiments and
    experiments without runs are skipped. Raises ValueError when the store has no runs at all.
    """
    client = MlflowClient(tracking_uri)
    destination.mkdir(parents=True, exist_ok=True)
    rows = []
    for experiment in client.search_experiments(view_type=ViewType.ACTIVE_ONLY):
        runs = search_all_runs(client, [experiment.experiment_id], view_type=ViewType.ALL)
        if not runs:
            continue
        file_name = experiment_file_name(experiment.name)
        runs_frame(runs).to_csv(destination / file_name, index=False)
        rows.append({"experiment": experiment.name, "runs": len(runs), "file": file_name})
    if not rows:
        raise ValueError(f"no runs to export in {tracking_uri}")
    summary = pd.DataFrame(rows)
    summary.to_csv(destination / "experiments.csv", index=False)
    return summary
