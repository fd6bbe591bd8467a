"""Notebook 06's workers, stopped: a Ctrl-C in the notebook or a worker that hangs past the timeout stops every
worker process, and their unfinished child runs end KILLED (their Optuna trials FAIL). Real processes, a few
seconds each: tiny fake workers that join the study, open a child run and hang."""

from __future__ import annotations

import _thread
import os
import sys
import threading
import time
from pathlib import Path

import mlflow
import optuna
import pytest
from mlflow.tracking import MlflowClient

from tutorial_utils import tracking
from tutorial_utils.parallel_tuning import (
    WorkerFailed,
    end_stopped_trials,
    open_storage,
    run_workers,
    worker_env,
)

#: A worker that takes a trial, opens its child run, says so in a file named by its pid, and hangs.
HANGING_WORKER = """
import os, pathlib, sys, time
import mlflow, optuna
from tutorial_utils.parallel_tuning import worker_storage
study_name, parent_run_id, experiment_id, started = sys.argv[1:]
trial = optuna.load_study(study_name=study_name, storage=worker_storage()).ask()
with mlflow.start_run(parent_run_id=parent_run_id, experiment_id=experiment_id):
    pathlib.Path(started, str(os.getpid())).touch()
    time.sleep(120)
"""


@pytest.fixture
def hanging_study(fresh_store, tmp_path):
    """A parent run, its study in a journal file, and the commands and environment of two hanging workers."""
    uri = tracking.local_store_uri()
    tracking.ensure_store(uri)
    mlflow.set_tracking_uri(uri)  # as setup_tracking does in the notebook (the conftest resets it)
    client = MlflowClient(uri)
    experiment_id = client.create_experiment("stopped-workers")
    parent = client.create_run(experiment_id, run_name="parent")
    journal = str(tmp_path / "s.journal")
    study = optuna.create_study(study_name="s", storage=open_storage(journal))
    started = tmp_path / "started"
    started.mkdir()
    script = tmp_path / "hanging_worker.py"
    script.write_text(HANGING_WORKER)
    command = [sys.executable, str(script), "s", parent.info.run_id, experiment_id, str(started)]
    return client, parent, study, [command, command], worker_env(uri, 1, journal), started


def _stopped_cleanly(client, parent, study, started: Path) -> None:
    """Both workers gone, their child runs KILLED, their trials FAIL, the parent untouched."""
    pids = [int(p.name) for p in started.iterdir()]
    assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert end_stopped_trials(parent.info.run_id, study) == 2
    children = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert sorted(c.info.status for c in children) == ["KILLED", "KILLED"]
    assert [t.state.name for t in study.trials] == ["FAIL", "FAIL"]
    assert client.get_run(parent.info.run_id).info.status == "RUNNING"  # its `with` block ends it in the notebook
    client.set_terminated(parent.info.run_id)


def _when_both_started(started: Path, then) -> threading.Thread:
    def wait() -> None:
        deadline = time.monotonic() + 60
        while len(list(started.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        then()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread


def test_an_interrupt_stops_every_worker_and_their_runs_end_killed(hanging_study):
    client, parent, study, commands, env, started = hanging_study
    waiter = _when_both_started(started, _thread.interrupt_main)  # what Jupyter's interrupt button does
    with pytest.raises(KeyboardInterrupt):
        run_workers(commands, env=env, timeout=90)
    waiter.join()
    _stopped_cleanly(client, parent, study, started)


def test_a_worker_hanging_past_the_timeout_stops_them_all(hanging_study):
    client, parent, study, commands, env, started = hanging_study
    with pytest.raises(WorkerFailed, match="still running after 15 s were stopped"):
        run_workers(commands, env=env, timeout=15)
    _stopped_cleanly(client, parent, study, started)
